// Worker thread entry for PDF text extraction: PDF.js parses on the thread it runs on, so a heavy PDF
// must not hold the daemon's event loop. Refusals travel back as plain {code, detail} data.
import { parentPort, workerData } from 'node:worker_threads';
import { DaemonError } from '../../../errors/daemon-error.ts';
import { extractPdfText } from './pdf-extract.ts';

export type PdfWorkerReply =
  | { ok: true; pages: number; text?: string }
  | { ok: false; code: string; detail: string };

const { bytes } = workerData as { bytes: Uint8Array };
let reply: PdfWorkerReply;
try {
  reply = { ok: true, ...(await extractPdfText(bytes)) };
} catch (err) {
  reply =
    err instanceof DaemonError
      ? { ok: false, code: err.code, detail: err.detail }
      : {
          ok: false,
          code: 'invalid_asset_content',
          detail: `PDF could not be read: ${(err as Error).message}`,
        };
}
parentPort!.postMessage(reply);
