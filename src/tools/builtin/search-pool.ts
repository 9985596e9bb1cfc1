// A few reusable worker threads for list_files, glob_search and grep_search. A job that must stop
// (the run is cancelled, or a regular expression runs away) gets its thread terminated: the only
// way to interrupt synchronous matching. Idle threads are unref'd so they never hold the process.
import { Worker } from 'node:worker_threads';
import { ToolFailure } from './failure.ts';
import type { SearchJob, SearchOutcome } from './search-walk.ts';

const MAX_IDLE = 2;
const IDLE_MS = 30_000;

interface Idle {
  worker: Worker;
  timer: NodeJS.Timeout;
}

const idle: Idle[] = [];

function spawn(): Worker {
  return new Worker(new URL('./search-worker.ts', import.meta.url));
}

function release(worker: Worker): void {
  if (idle.length >= MAX_IDLE) {
    void worker.terminate();
    return;
  }
  worker.unref();
  const timer = setTimeout(() => {
    const i = idle.findIndex((x) => x.worker === worker);
    if (i !== -1) idle.splice(i, 1);
    void worker.terminate();
  }, IDLE_MS);
  timer.unref();
  idle.push({ worker, timer });
}

function take(): Worker {
  const next = idle.pop();
  if (!next) return spawn();
  clearTimeout(next.timer);
  next.worker.ref();
  return next.worker;
}

/**
 * Runs `job` on a worker. `signal` is the run's cancellation; `hardLimitMs` bounds the job even
 * when the walk cannot check its own deadline (a single regular expression test that never ends).
 */
export function runSearchJob(
  job: SearchJob,
  signal: AbortSignal,
  hardLimitMs: number,
): Promise<SearchOutcome> {
  if (signal.aborted) return Promise.reject(signal.reason);
  const worker = take();
  return new Promise<SearchOutcome>((resolve, reject) => {
    let settled = false;
    const finish = (keep: boolean, fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (keep) release(worker);
      else void worker.terminate();
      fn();
    };
    const onAbort = () => finish(false, () => reject(signal.reason));
    const onMessage = (m: { ok: boolean; outcome?: SearchOutcome; expected?: boolean; error?: string }) =>
      finish(true, () =>
        m.ok
          ? resolve(m.outcome!)
          : reject(m.expected ? new ToolFailure(m.error!) : new Error(m.error ?? 'search failed')),
      );
    const onError = (err: Error) => finish(false, () => reject(err));
    const onExit = () => finish(false, () => reject(new Error('the search worker exited unexpectedly')));
    const timer = setTimeout(
      () =>
        finish(false, () =>
          reject(
            new ToolFailure(
              `the search did not finish within ${hardLimitMs} ms and was stopped (the pattern may be too expensive); narrow \`base\`, add a glob, or simplify the pattern`,
            ),
          ),
        ),
      hardLimitMs,
    );
    signal.addEventListener('abort', onAbort, { once: true });
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.postMessage(job);
  });
}

/** Stops idle workers (tests call it so the process can exit promptly). */
export async function closeSearchWorkers(): Promise<void> {
  const all = idle.splice(0);
  for (const x of all) clearTimeout(x.timer);
  await Promise.all(all.map((x) => x.worker.terminate()));
}
