// Crash scenario: the daemon is SIGKILLed around a cron boundary, when the scheduler claims the
// occurrence and creates its run in one transaction. After the restart no occurrence may have been
// dispatched twice, no scheduled run may be duplicated or lost from the history, none may be stuck.
// Three payloads: a plain request, an embedded observation materialization (whose fire also
// selects the observations and writes its audit record in that transaction), and a flow_start
// (whose fire also writes the Flow record: one Flow per occurrence, each naming its own run).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sourceBody, upload, uploadBody } from '../helpers/observations.ts';
import {
  api,
  CrashRig,
  createSession,
  ITERATIONS,
  KillAim,
  randomInt,
  sleep,
  waitFor,
  waitTerminal,
} from './crash-kit.ts';

const PERIOD_MS = 5_000;
/** More lanes than the kit's default: each iteration waits for its own boundary. */
const LANES = Math.max(1, Math.min(Number(process.env.KHEISH_CRASH_LANES ?? 5), ITERATIONS));
const SCRIPT = { default: { turns: [{ text: 'ok' }] } };

type Variant = 'request' | 'observation' | 'flow';
const KIND: Record<Variant, string> = {
  request: 'scheduled_input',
  observation: 'scheduled_observation_materialization',
  flow: 'scheduled_input',
};
const TOKEN = 'boundary-upload-token-01';

interface Lane {
  rig: CrashRig;
  session: string;
  schedule: string;
  variant: Variant;
  uploads: number;
}

async function setUp(laneNo: number, variant: Variant): Promise<Lane> {
  const rig = await CrashRig.start({ script: SCRIPT }, laneNo);
  const session = await createSession(rig.url);
  let payload: Record<string, unknown> = { request: { content: 'tick' } };
  if (variant === 'observation') {
    assert.equal(
      (await api(rig.url, 'POST', '/v1/observation-sources', sourceBody('screen', TOKEN))).status,
      201,
    );
    const res = await upload(
      rig.url,
      'screen',
      TOKEN,
      uploadBody('frame-0', 0, { canonical_text: 'frame 0' }),
    );
    assert.equal(res.status, 201, res.text);
    payload = {
      observation_materialization: {
        selection: { type: 'latest_from_source', source_id: 'screen', max_observations: 2 },
        request: { content: 'tick' },
      },
    };
  }
  if (variant === 'flow') {
    const manifest = { playbook_id: 'tick', version: '1', title: 'Tick', objective: 'Tick' };
    const pb = await api(rig.url, 'POST', '/v1/playbooks', { manifest });
    assert.equal(pb.status, 200, pb.text);
    const ref = { playbook_id: 'tick', version: '1', digest: pb.body.selected_version.digest };
    const evidence_refs = [{ kind: 'doc_review', id: 'r' }];
    const pub = await api(rig.url, 'POST', '/v1/playbooks/tick/publish', { ...ref, evidence_refs });
    assert.equal(pub.status, 200, pub.text);
    payload = { flow_start: { playbook_ref: ref, request: { content: 'tick' } } };
  }
  const res = await api(rig.url, 'POST', '/v1/schedules', {
    name: `boundary-${laneNo}`,
    target_session_id: session,
    cadence: { type: 'cron', expression: '*/5 * * * * *' },
    overlap_policy: 'parallel',
    ...payload,
  });
  assert.equal(res.status, 201, res.text);
  return { rig, session, schedule: res.body.schedule_id, variant, uploads: 1 };
}

/**
 * Every invariant of "each occurrence fires at most once" visible through the API. The schedule
 * keeps firing while we read, so only occurrences before the reads started are compared.
 */
async function checkOnce(lane: Lane, where: string): Promise<void> {
  const { rig, session, schedule } = lane;
  const cutoff = Date.now() - 50;
  // The schedule keeps firing between reads (a late, caught-up fire can carry an occurrence time
  // before the cutoff), so the runs are read before and after the view: a run and its execution
  // commit together, hence runs(before) ⊆ executions(view) ⊆ runs(after).
  const listRuns = async () =>
    (await api(rig.url, 'GET', `/v1/runs?session_id=${encodeURIComponent(session)}`)).body as any[];
  const listFlows = async () =>
    (await api(rig.url, 'GET', `/v1/flows?session_id=${encodeURIComponent(session)}`)).body as any[];
  const flowsBefore = lane.variant === 'flow' ? await listFlows() : [];
  const before = await listRuns();
  const view = (await api(rig.url, 'GET', `/v1/schedules/${schedule}`)).body;
  const runs = await listRuns();
  const dispatched = view.recent_executions.filter((e: any) => e.run_id);
  const fires = dispatched.map((e: any) => e.fire_at_ms);
  assert.equal(new Set(fires).size, fires.length, `${where}: an occurrence was dispatched twice: ${fires}`);
  const scheduled = runs.filter((r) => r.kind === KIND[lane.variant]);
  assert.equal(runs.length, scheduled.length, `${where}: only runs of kind ${KIND[lane.variant]}`);
  if (lane.variant === 'observation')
    for (const r of scheduled) {
      const ids = r.input_metadata.observation_materialization?.observation_ids ?? [];
      assert.ok(ids.length >= 1 && ids.length <= 2, `${where}: run ${r.run_id} selected ${ids}`);
    }
  if (lane.variant === 'flow') {
    // A Flow and its root run commit together: flows(before) ⊆ runs, runs(before) ⊆ flows(after).
    const flowsAfter = await listFlows();
    const byRun = new Map(flowsAfter.map((f) => [f.run_id as string, f.flow_id as string]));
    assert.equal(byRun.size, flowsAfter.length, `${where}: two Flows share a root run`);
    const runIds = new Set(runs.map((r) => r.run_id as string));
    for (const f of flowsBefore) assert.ok(runIds.has(f.run_id), `${where}: Flow ${f.flow_id} has no run`);
    for (const r of before) {
      assert.ok(r.input_metadata.kheish_flow?.flow_id, `${where}: run ${r.run_id} has no kheish_flow`);
      assert.equal(
        byRun.get(r.run_id),
        r.input_metadata.kheish_flow?.flow_id,
        `${where}: run ${r.run_id}'s Flow`,
      );
    }
  }
  const planned = scheduled.map((r) => r.input_metadata.scheduled_for_ms);
  assert.equal(new Set(planned).size, planned.length, `${where}: two runs for one occurrence: ${planned}`);
  const early = (list: any[]) =>
    list
      .filter((r) => r.kind === KIND[lane.variant] && r.input_metadata.scheduled_for_ms < cutoff)
      .map((r) => r.run_id as string);
  const recorded = new Set<string>(
    dispatched.filter((e: any) => e.fire_at_ms < cutoff).map((e: any) => e.run_id as string),
  );
  const after = new Set(early(runs));
  for (const id of early(before)) assert.ok(recorded.has(id), `${where}: run ${id} has no execution record`);
  for (const id of recorded) assert.ok(after.has(id), `${where}: execution of run ${id} has no run`);
  await waitTerminal(
    rig.url,
    scheduled.map((r) => r.run_id),
  );
}

async function acrossBoundaries(variant: Variant, diagnostic: (m: string) => void): Promise<void> {
  const aim = new KillAim();
  const started = await Promise.allSettled(Array.from({ length: LANES }, (_, i) => setUp(i, variant)));
  const lanes = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  let next = 0;
  let failure: unknown = null;
  try {
    const bad = started.find((s) => s.status === 'rejected');
    if (bad) throw (bad as PromiseRejectedResult).reason;
    await Promise.all(
      lanes.map(async (lane) => {
        for (;;) {
          const index = next++;
          if (index >= ITERATIONS || failure !== null) return;
          try {
            // The next boundary far enough ahead to aim at, then a kill a few ms either side of it.
            let boundary = Math.ceil(Date.now() / PERIOD_MS) * PERIOD_MS;
            if (boundary - Date.now() < 400) boundary += PERIOD_MS;
            const offset = randomInt(-60, 60);
            if (variant === 'observation') {
              // A new frame before each boundary: the fires after it select it.
              const n = lane.uploads++;
              const body = uploadBody(`frame-${n}`, n, { canonical_text: `frame ${n}` });
              const up = await upload(lane.rig.url, 'screen', TOKEN, body);
              assert.equal(up.status, 201, up.text);
            }
            await sleep(boundary + offset - Date.now());
            const killedAt = Date.now();
            await lane.rig.crash();
            aim.record(
              Math.abs(killedAt - boundary) <= 100,
              `killed ${killedAt - boundary} ms from the boundary`,
            );
            await lane.rig.restart();
            // The boundary's occurrence is handled (fired, or coalesced into a later fire) after the restart.
            await waitFor(
              'the boundary occurrence to be handled',
              async () => {
                const v = (await api(lane.rig.url, 'GET', `/v1/schedules/${lane.schedule}`)).body;
                return v.recent_executions.some((e: any) => e.fire_at_ms >= boundary) || undefined;
              },
              15_000,
              50,
            );
            await checkOnce(lane, `iteration ${index + 1}`);
          } catch (err) {
            if (err instanceof Error)
              err.message = `iteration ${index + 1}/${ITERATIONS}: ${err.message}\n${lane.rig.logTail()}`;
            failure ??= err;
            return;
          }
        }
      }),
    );
    if (failure !== null) throw failure;
    for (const lane of lanes) await checkOnce(lane, 'at the end');
    diagnostic(aim.assertMostlyHit('100 ms of a cron boundary'));
  } finally {
    await Promise.all(lanes.map((l) => l.rig.dispose()));
  }
}

test(`crash: SIGKILL across a cron boundary never fires an occurrence twice (${ITERATIONS} iterations)`, (t) =>
  acrossBoundaries('request', (m) => t.diagnostic(m)));

test(`crash: SIGKILL across a cron boundary never fires an observation materialization twice (${ITERATIONS} iterations)`, (t) =>
  acrossBoundaries('observation', (m) => t.diagnostic(m)));

test(`crash: SIGKILL across a cron boundary never starts a scheduled Flow twice (${ITERATIONS} iterations)`, (t) =>
  acrossBoundaries('flow', (m) => t.diagnostic(m)));
