// Worker thread entry for the tree-walking tools: receives a SearchJob, answers with its outcome.
// Failures are answered as messages too, so the pool can keep the thread for the next job.
import { parentPort } from 'node:worker_threads';
import { ToolFailure } from './failure.ts';
import { runSearch, type SearchJob } from './search-walk.ts';

parentPort!.on('message', (job: SearchJob) => {
  try {
    parentPort!.postMessage({ ok: true, outcome: runSearch(job) });
  } catch (err) {
    const expected = err instanceof ToolFailure;
    parentPort!.postMessage({ ok: false, expected, error: (err as Error)?.message ?? String(err) });
  }
});
