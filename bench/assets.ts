// Upload throughput of the asset store: `POST /v1/assets` of N-MiB text payloads (distinct bytes,
// so nothing dedupes) against the physical floor of the same bytes: one file written and fsynced
// on the same disk (the state root's temp directory). A daemon upload pays the JSON/base64 decode,
// validation, SHA-256, the payload's temp-file write, fsync, rename and directory fsync, and the
// catalog row's commit; the ratio says what all that costs over the write itself. SQLite store.
import { randomBytes } from 'node:crypto';
import { mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { removeDir, startBenchDaemon, tempDir } from './lib/daemon.ts';
import { Budget, round, type Summary, summarize } from './lib/stats.ts';

export interface AssetsSizeResult {
  size_mib: number;
  uploads: number;
  upload_ms: Summary;
  floor_ms: Summary;
  /** size ÷ p50 time. */
  daemon_mib_s: number;
  floor_mib_s: number;
  /** daemon MiB/s ÷ floor MiB/s (1 = as fast as a bare write + fsync). */
  ratio: number;
}

export interface AssetsResult {
  store: 'sqlite';
  sizes: AssetsSizeResult[];
}

/** Valid UTF-8 (hex text) of exactly `bytes` bytes, different every call. */
const textPayload = (bytes: number): Buffer =>
  Buffer.from(randomBytes(Math.ceil(bytes / 2)).toString('hex')).subarray(0, bytes);

async function floorWrite(dir: string, bytes: Buffer, i: number): Promise<number> {
  const path = join(dir, `floor-${i}`);
  const t0 = performance.now();
  const fd = await open(path, 'w');
  await fd.writeFile(bytes);
  await fd.sync();
  await fd.close();
  const ms = performance.now() - t0;
  await unlink(path);
  return ms;
}

export async function runAssets(opts: {
  sizesMiB: number[];
  reps: number;
  budgetMs: number;
}): Promise<AssetsResult> {
  const root = tempDir('kheish-bench-assets-');
  const floorDir = join(root, 'floor');
  await mkdir(floorDir);
  const d = await startBenchDaemon({ stateRoot: join(root, 'state') });
  try {
    const sizes: AssetsSizeResult[] = [];
    for (const mib of opts.sizesMiB) {
      const size = Math.floor(mib * 1024 * 1024);
      const budget = new Budget(opts.budgetMs);
      const upload: number[] = [];
      const floor: number[] = [];
      // Alternate floor and daemon so both see the same disk and load.
      for (let i = 0; i < opts.reps && !budget.expired; i++) {
        const bytes = textPayload(size);
        floor.push(await floorWrite(floorDir, bytes, i));
        const body = JSON.stringify({
          file_name: `bench-${mib}-${i}.txt`,
          media_type: 'text/plain',
          content_base64: bytes.toString('base64'),
        });
        const t0 = performance.now();
        const res = await fetch(`${d.url}/v1/assets`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        await res.text();
        if (res.status !== 201) throw new Error(`upload of ${mib} MiB answered ${res.status}`);
        upload.push(performance.now() - t0);
      }
      const u = summarize(upload);
      const f = summarize(floor);
      const daemon = mib / (u.p50 / 1000);
      const bare = mib / (f.p50 / 1000);
      sizes.push({
        size_mib: mib,
        uploads: upload.length,
        upload_ms: u,
        floor_ms: f,
        daemon_mib_s: round(daemon, 2),
        floor_mib_s: round(bare, 2),
        ratio: round(daemon / bare, 3),
      });
    }
    return { store: 'sqlite', sizes };
  } finally {
    await d.stop();
    removeDir(root);
  }
}
