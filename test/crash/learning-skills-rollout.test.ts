// Crash scenario: the daemon is SIGKILLed at a random point while an operator drives a promoted
// skill's rollout (evidence, status moves, revoke, rollback, a new draft rollout). After the
// restart the record is consistent: nothing acknowledged is lost, its counts match its evidence,
// its status satisfies its gate, the skill file is the record's definition and the catalog shows
// the skill exactly when it is active.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { publishLearning } from '../helpers/learnings-publish.ts';
import { ITERATIONS, randomInt, sleep } from './crash-kit.ts';

const NAME = 'crash:proc';
const INSTR = 'PROC-TASK-MARKER: the crash procedure';
const SCRIPT = {
  rules: [{ match: 'PROC-TASK-MARKER', turns: [{ text: 'PROC-OK' }] }],
  default: { turns: [{ text: 'nothing' }] },
};

function assertConsistent(rec: any, catalog: string[], stateRoot: string) {
  const where = JSON.stringify(rec.lifecycle_events.map((e: any) => `${e.action}:${e.to_status}`));
  assert.equal(rec.lifecycle_events.at(-1).to_status, rec.status, where);
  const current = rec.evidence_refs.filter((e: any) => e.rollout_generation === rec.rollout_generation);
  const count = (kind: string, outcome: string) =>
    current.filter((e: any) => e.kind === kind && e.outcome === outcome).length;
  assert.equal(rec.canary_success_count, count('canary', 'succeeded'), where);
  assert.equal(rec.canary_failure_count, count('canary', 'failed'), where);
  assert.equal(rec.verification_status === 'verified', count('verification', 'succeeded') > 0, where);
  if (['verified', 'canary', 'active'].includes(rec.status))
    assert.equal(rec.verification_status, 'verified', where);
  if (rec.status === 'active') {
    assert.ok(rec.canary_success_count >= 1, where);
    assert.equal(rec.canary_failure_count, 0, where);
  }
  assert.equal(catalog.includes(NAME), rec.status === 'active', `${where} catalog ${catalog}`);
  const file = join(stateRoot, 'skills', NAME, 'SKILL.md');
  if (rec.status === 'revoked') return;
  assert.ok(readFileSync(file, 'utf8').includes(rec.definition.instructions), where);
}

test(`crash: SIGKILL mid-rollout of a promoted skill keeps a consistent record (${ITERATIONS} iterations)`, async () => {
  for (let i = 0; i < ITERATIONS; i++) {
    let d: TestDaemon = await startDaemon({
      script: SCRIPT,
      args: ['--workspace-root', tempDir('kheish-lskills-crash-ws-')],
      env: { HOME: tempDir('kheish-lskills-crash-home-') },
    });
    const stateRoot = d.stateRoot;
    try {
      const learning = await publishLearning(d.url, INSTR);
      const run = async (session: string, content: string) => {
        await http(d.url, 'POST', '/v1/sessions', { session_id: session });
        const r = await http(d.url, 'POST', `/v1/sessions/${session}/runs`, { content });
        const done = await waitForRun(d.url, r.body.run_id, undefined, 30_000);
        assert.equal(done.status, 'completed');
        return done.run_id as string;
      };
      const verify = await run('v', INSTR);
      const canaries = [await run('c1', INSTR), await run('c2', INSTR)];
      const failing = await run('f', 'no marker');
      const promote = (body: object) =>
        http(d.url, 'POST', `/v1/learnings/${learning}/promote-skill`, { skill_name: NAME, ...body });
      const evidence = (kind: string, run_id: string) =>
        http(d.url, 'POST', `/v1/learning-skills/${NAME}/rollout-result`, {
          kind,
          run_id,
          expected_output_contains: 'PROC-OK',
        });
      const steps: Array<() => Promise<{ status: number; body: any }>> = [
        () => promote({ instructions: INSTR }),
        () => evidence('verification', verify),
        () => promote({ status: 'verified' }),
        () => promote({ status: 'canary' }),
        () => evidence('canary', canaries[0]!),
        () => evidence('canary', canaries[1]!),
        () => promote({ status: 'active' }),
        () => http(d.url, 'POST', `/v1/learning-skills/${NAME}/revoke`, { reason: 'crash test' }),
        () => http(d.url, 'POST', `/v1/learning-skills/${NAME}/rollback`, { reason: 'crash test' }),
        () => promote({ instructions: `${INSTR} v2` }),
        () => promote({ instructions: `${INSTR} v2`, status: 'draft' }),
        () => evidence('verification', verify),
        () => promote({ status: 'canary' }),
        () => evidence('canary', failing),
      ];
      let acked: any = null;
      let done = 0;
      const driver = (async () => {
        for (const step of steps) {
          const r = await step().catch(() => null);
          if (!r) {
            done = steps.length;
            return;
          }
          if (r.status === 200) acked = r.body;
          done++;
        }
      })();
      // Spread the kill over the steps: after a random number of them, a few ms into the next.
      const target = randomInt(0, steps.length - 1);
      while (done < target) await sleep(1);
      await sleep(randomInt(0, 8));
      await d.kill();
      await driver;
      d = await d.restart();
      const got = await http(d.url, 'GET', `/v1/learning-skills/${NAME}`);
      if (process.env.KHEISH_CRASH_VERBOSE) console.log(`killed during step ${target + 1}/${steps.length}`);
      if (!acked) {
        // Nothing acknowledged: the promotion may or may not have committed, never half of it.
        assert.ok(got.status === 404 || got.body.status === 'draft', got.text);
        if (got.status === 404) continue;
      }
      assert.equal(got.status, 200, got.text);
      const rec = got.body;
      if (acked)
        assert.ok(
          rec.lifecycle_events.length >= acked.lifecycle_events.length,
          'nothing acknowledged is lost',
        );
      const catalog = ((await http(d.url, 'GET', '/v1/skills')).body as any[]).map((s) => s.name);
      assertConsistent(rec, catalog, stateRoot);
    } finally {
      await d.kill();
      await d.cleanup();
    }
  }
});
