// `doctor routes --canary` (ops-runtime §4.6): a tiny real run on one route and model, in a
// disposable session that is ended afterwards; the default route is never changed. Reports
// passed, failed or timeout with the session and run ids, so the run can be inspected.
import type { DaemonClient } from '../sdk/client.ts';

export interface CanaryResult {
  route_id: string;
  model: string | null;
  status: 'passed' | 'failed' | 'timeout';
  session_id: string | null;
  run_id: string | null;
  duration_ms: number;
  detail: string | null;
}

const TERMINAL = new Set(['completed', 'failed', 'interrupted', 'cancelled']);
const PROMPT = 'Health check from kheish-daemon doctor routes --canary. Reply with the single word: ok';

export async function runCanary(
  client: DaemonClient,
  routeId: string,
  model: string | null,
  timeoutMs: number,
): Promise<CanaryResult> {
  const started = Date.now();
  const result = (
    status: CanaryResult['status'],
    ids: { session?: string; run?: string },
    detail: string | null,
  ) => ({
    route_id: routeId,
    model,
    status,
    session_id: ids.session ?? null,
    run_id: ids.run ?? null,
    duration_ms: Date.now() - started,
    detail,
  });
  const session = await client.createSession({});
  const ids: { session: string; run?: string } = { session: session.session_id as string };
  try {
    let run: Awaited<ReturnType<DaemonClient['getRun']>>;
    try {
      run = await client.submitRun(ids.session, {
        content: PROMPT,
        provider: routeId,
        ...(model ? { generation: { model } } : {}),
      } as never);
    } catch (err) {
      return result('failed', ids, (err as Error).message);
    }
    ids.run = run.run_id as string;
    while (!TERMINAL.has(String(run.status))) {
      if (Date.now() - started > timeoutMs) {
        await client.cancelRun(ids.run).catch(() => undefined);
        return result('timeout', ids, `no answer within ${timeoutMs} ms (the run was cancelled)`);
      }
      if (String(run.status).startsWith('waiting_')) {
        await client.cancelRun(ids.run).catch(() => undefined);
        return result('failed', ids, `the run stopped in ${run.status} (a hook or a tool asked for input)`);
      }
      await new Promise((r) => setTimeout(r, 200));
      run = await client.getRun(ids.run);
    }
    return run.status === 'completed'
      ? result('passed', ids, null)
      : result('failed', ids, String(run.error ?? run.status));
  } finally {
    await client.endSession(ids.session, 'doctor routes --canary finished').catch(() => undefined);
  }
}
