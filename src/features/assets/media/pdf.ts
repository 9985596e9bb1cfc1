// PDF: the structural pre-scan on this thread (bounded, no PDF library), then text extraction in a
// worker thread. The worker keeps PDF.js's parsing off the daemon's event loop, is terminated the
// moment the signal aborts (real cancellation, not only between pages), has a heap ceiling and a
// wall-clock bound.
import { Worker } from 'node:worker_threads';
import { DaemonError } from '../../../errors/daemon-error.ts';
import { invalid } from './errors.ts';
import type { NormalizedPdf } from './pdf-extract.ts';
import { scanPdf } from './pdf-scan.ts';
import type { PdfWorkerReply } from './pdf-worker.ts';

/** Heap ceiling of the extraction worker (MiB): a PDF that needs more is refused as unreadable. */
export const PDF_WORKER_HEAP_MB = 512;
/** Wall-clock bound of one extraction (ms). */
export const PDF_EXTRACTION_TIMEOUT_MS = 120_000;

export async function normalizePdf(bytes: Uint8Array, signal?: AbortSignal): Promise<NormalizedPdf> {
  scanPdf(bytes, signal);
  signal?.throwIfAborted();
  const worker = new Worker(new URL('./pdf-worker.ts', import.meta.url), {
    workerData: { bytes },
    resourceLimits: { maxOldGenerationSizeMb: PDF_WORKER_HEAP_MB },
    stdout: true,
    stderr: true,
  });
  // PDF.js may print diagnostics; the worker's output is not the daemon's log.
  worker.stdout.resume();
  worker.stderr.resume();
  try {
    const reply = await new Promise<PdfWorkerReply>((resolve, reject) => {
      const onAbort = (): void => reject(signal!.reason);
      const timer = setTimeout(
        () =>
          reject(invalid(`PDF text extraction did not finish within ${PDF_EXTRACTION_TIMEOUT_MS / 1000} s`)),
        PDF_EXTRACTION_TIMEOUT_MS,
      );
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      worker.once('message', (m: PdfWorkerReply) => {
        done();
        resolve(m);
      });
      worker.once('error', (err: Error & { code?: string }) => {
        done();
        reject(
          err.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? invalid(`PDF text extraction needs more than ${PDF_WORKER_HEAP_MB} MiB of memory`)
            : invalid(`PDF could not be read: ${err.message}`),
        );
      });
      worker.once('exit', (code) => {
        done();
        reject(invalid(`PDF text extraction stopped (exit code ${code})`));
      });
    });
    if (!reply.ok) throw new DaemonError(400, 'assets', reply.code, reply.detail);
    return { pages: reply.pages, ...(reply.text ? { text: reply.text } : {}) };
  } finally {
    await worker.terminate();
  }
}
