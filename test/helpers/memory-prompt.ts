// What a provider received from a run, for the memory tests: the system text of the last model
// call on the `gpt` route of test/helpers/openai-route.ts, and the recovered_memory entries in it.
import assert from 'node:assert/strict';
import type { FixtureServer } from '../fixtures/providers/harness.ts';
import { http, type TestDaemon, waitForRun } from './daemon.ts';

/** Runs `content` on the provider route; the run and the system text its model call carried. */
export async function promptOf(
  daemon: TestDaemon,
  server: FixtureServer,
  session: string,
  content: string,
  reply = 'done',
) {
  server.enqueue({ kind: 'text', deltas: [reply] });
  const r = await http(daemon.url, 'POST', `/v1/sessions/${session}/runs`, { content, provider: 'gpt' });
  assert.equal(r.status, 202, r.text);
  const run = await waitForRun(daemon.url, r.body.run_id, undefined, 30_000);
  assert.equal(run.status, 'completed', JSON.stringify(run.error));
  const body = server.requests.at(-1)!.body as any;
  const system = ((body.input ?? body.messages) as any[])
    .filter((m) => m.role === 'system' || m.role === 'developer')
    .map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content)))
    .join('\n---\n');
  return { run, system };
}

/** The run ids listed in the prompt's recovered_memory section, in order. */
export function recoveredIds(system: string): string[] {
  const at = system.indexOf('# recovered_memory');
  if (at < 0) return [];
  const section = system.slice(at).split('\n---\n')[0]!;
  return [...section.matchAll(/^- run (\S+) /gm)].map((m) => m[1]!);
}
