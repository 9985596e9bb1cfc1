// A promoted procedure rolled out to `active` on real scripted runs (draft → verified → canary →
// active), for tests that use it afterwards: its child's script rule and the parent's are in
// WORKTREE_SCRIPT. The evidence runs carry the marker only; the fork child's task also says where
// it works, which is what its script rule matches.
import assert from 'node:assert/strict';
import { http, waitForRun } from './daemon.ts';
import { publishLearning } from './learnings-publish.ts';

export const CHILD_COMMAND = 'echo from-child > out.txt; cat tracked.txt 2>/dev/null; pwd';

export const WORKTREE_SCRIPT = {
  rules: [
    {
      match: 'tools are rooted at',
      turns: [
        { tool_calls: [{ name: 'bash', arguments: { command: CHILD_COMMAND } }] },
        { text: 'PROC-OK child wrote' },
      ],
    },
    { match: 'PROC-TASK-MARKER', turns: [{ text: 'PROC-OK checked' }] },
    {
      match: '^please use the procedure',
      turns: [
        { tool_calls: [{ name: 'use_skill', arguments: { name: 'learning:wt', wait: false } }] },
        { text: 'parent done' },
      ],
    },
  ],
  default: { turns: [{ text: 'nothing to report' }] },
};

/** Submits a detached run in a new session and waits for it to finish. */
export async function runTo(url: string, sessionId: string, content: string): Promise<any> {
  await http(url, 'POST', '/v1/sessions', { session_id: sessionId });
  const r = await http(url, 'POST', `/v1/sessions/${sessionId}/runs`, { content });
  assert.equal(r.status, 202, r.text);
  return waitForRun(url, r.body.run_id, undefined, 30_000);
}

/** Publishes a procedure learning and rolls `learning:wt` out to active with bash allowed. */
export async function activeProcedure(url: string): Promise<void> {
  const instructions = 'PROC-TASK-MARKER: write the report with bash and reply PROC-OK';
  const learning = await publishLearning(url, instructions);
  const promote = async (status?: string) => {
    const r = await http(url, 'POST', `/v1/learnings/${learning}/promote-skill`, {
      skill_name: 'learning:wt',
      instructions,
      allowed_tools: ['bash'],
      ...(status ? { status } : {}),
    });
    assert.equal(r.status, 200, r.text);
  };
  const evidence = async (kind: string, session: string) => {
    const run = await runTo(url, session, instructions);
    const r = await http(url, 'POST', '/v1/learning-skills/learning:wt/rollout-result', {
      kind,
      run_id: run.run_id,
      expected_output_contains: 'PROC-OK',
    });
    assert.equal(r.status, 200, r.text);
  };
  await promote();
  await evidence('verification', 'wt-verify');
  await promote('verified');
  await promote('canary');
  await evidence('canary', 'wt-canary');
  await promote('active');
}
