// Blocked-by tracking of session work tasks: the pure graph helpers, then the task tools against
// the real TasksService on a temporary SQLite store (events, automatic blocked/pending, cycles).
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { findCycle, indexEdges, nextBlockers, openBlockers } from '../../src/features/tasks/dependencies.ts';
import { TasksService } from '../../src/features/tasks/service.ts';
import { EventLog } from '../../src/store/event-log.ts';
import { Store } from '../../src/store/store.ts';
import { createTaskTools } from '../../src/tools/control/tasks.ts';
import type { ToolDefinition } from '../../src/tools/registry.ts';
import { tempDir } from '../helpers/daemon.ts';

const e = (task_id: string, blocked_by_task_id: string) => ({ task_id, blocked_by_task_id });

describe('dependency helpers', () => {
  test('indexEdges derives blocks as the exact inverse of blocked_by', () => {
    const { blockedBy, blocks } = indexEdges([e('c', 'a'), e('b', 'a'), e('c', 'b')]);
    assert.deepEqual(blockedBy.get('c'), ['a', 'b']);
    assert.deepEqual(blocks.get('a'), ['b', 'c']);
    assert.deepEqual(blocks.get('b'), ['c']);
    assert.equal(blocks.get('c'), undefined);
  });

  test('findCycle reports the loop a new edge would close, and nothing for a DAG', () => {
    const edges = [e('b', 'a'), e('c', 'b')];
    assert.deepEqual(findCycle(edges, 'a', ['c']), ['a', 'c', 'b', 'a']);
    assert.deepEqual(findCycle(edges, 'a', ['a']), ['a', 'a']);
    assert.equal(findCycle(edges, 'd', ['c', 'a']), null);
    // Replacing c's blockers drops its old edge before checking.
    assert.equal(findCycle(edges, 'c', ['a']), null);
  });

  test('nextBlockers replaces, adds and removes; openBlockers keeps unfinished ones', () => {
    assert.deepEqual(nextBlockers(['a', 'b'], { add_blocked_by: ['c', 'a'] }), ['a', 'b', 'c']);
    assert.deepEqual(nextBlockers(['a', 'b'], { remove_blocked_by: ['a'] }), ['b']);
    assert.deepEqual(nextBlockers(['a'], { blocked_by: ['z', 'y'] }), ['y', 'z']);
    const status: Record<string, string> = { a: 'completed', b: 'failed', c: 'pending' };
    assert.deepEqual(
      openBlockers(['a', 'b', 'c'], (id) => status[id]),
      ['b', 'c'],
    );
  });
});

describe('task tools on the tasks service', () => {
  const dir = tempDir('kheish-tasks-unit-');
  let store: Store;
  let events: EventLog;
  let tools: Map<string, ToolDefinition>;
  const seen: Array<{ name: string; id: string; status: string }> = [];
  const ctx = (session_id = 's1') => ({
    run_id: 'run-1',
    session_id,
    agent_id: 'agent-1',
    tool_call_id: 'call-1',
    workspace_root: null,
    signal: new AbortController().signal,
  });
  const call = async (name: string, args: Record<string, unknown>, session = 's1') => {
    const r = await tools.get(name)!.execute(args, ctx(session));
    return { ...r, body: r.is_error ? null : JSON.parse(r.content) };
  };

  before(async () => {
    store = await Store.open({ stateRoot: dir });
    events = new EventLog(store, 1000);
    await events.init();
    events.subscribe((ev) => {
      if (ev.name.startsWith('task_')) {
        const task = ev.data.task as { id: string; status: string };
        seen.push({ name: ev.name, id: task.id, status: task.status });
      }
    });
    await store.write(async (tx) => {
      for (const id of ['s1', 's2'])
        await tx.db
          .insertInto('sessions')
          .values({
            session_id: id,
            agent_id: `agent-${id}`,
            created_at_ms: tx.now,
            updated_at_ms: tx.now,
          } as never)
          .execute();
    });
    const service = new TasksService({ store, events, stateRoot: dir, log: { info() {}, warn() {} } });
    tools = new Map(createTaskTools(service).map((t) => [t.name, t]));
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('read-only task tools have no side effects; mutating ones do', () => {
    for (const name of ['task_get', 'task_list', 'task_output'])
      assert.equal(tools.get(name)!.side_effects, false);
    for (const name of ['task_create', 'task_update', 'task_stop', 'task_delete'])
      assert.equal(tools.get(name)!.side_effects, true);
  });

  test('blocked_by: a task waiting on unfinished work is blocked, and becomes pending when it completes', async () => {
    const a = (await call('task_create', { title: 'design' })).body;
    assert.equal(a.owner_agent_id, 'agent-1', 'the owner defaults to the calling agent');
    assert.equal(a.status, 'pending');
    assert.match(a.id, /^task-[0-9a-z]{26}$/);
    const b = (await call('task_create', { title: 'build', blocked_by: [a.id] })).body;
    assert.equal(b.status, 'blocked');
    assert.deepEqual(b.blocked_by, [a.id]);
    const a2 = (await call('task_get', { task_id: a.id })).body;
    assert.deepEqual(a2.blocks, [b.id], 'blocks is the inverse');

    const early = await call('task_update', { task_id: b.id, status: 'in_progress' });
    assert.equal(early.is_error, true);
    assert.match(early.content, /blocked by task-.*\(pending\)/);

    seen.length = 0;
    const done = (await call('task_update', { task_id: a.id, status: 'completed', output: 'spec.md' })).body;
    assert.equal(done.status, 'completed');
    assert.equal((await call('task_get', { task_id: b.id })).body.status, 'pending');
    assert.deepEqual(
      seen.map((s) => `${s.name}:${s.id === a.id ? 'a' : 'b'}:${s.status}`),
      ['task_completed:a:completed', 'task_updated:b:pending'],
      'one durable event per changed record, in the same commit',
    );
    assert.equal(
      (await call('task_update', { task_id: b.id, status: 'in_progress' })).body.status,
      'in_progress',
    );
  });

  test('unknown blockers, tasks of another session, self-dependencies and cycles are refused clearly', async () => {
    const x = (await call('task_create', { title: 'x' })).body;
    const y = (await call('task_create', { title: 'y', blocked_by: [x.id] })).body;
    const z = (await call('task_create', { title: 'z', blocked_by: [y.id] })).body;
    const unknown = await call('task_create', { title: 'w', blocked_by: ['task-nope'] });
    assert.equal(unknown.is_error, true);
    assert.match(unknown.content, /unknown task id\(s\) in blocked_by: task-nope/);
    const other = (await call('task_create', { title: 'elsewhere' }, 's2')).body;
    const cross = await call('task_update', { task_id: x.id, add_blocked_by: [other.id] });
    assert.match(cross.content, /unknown task id/);
    assert.equal((await call('task_get', { task_id: other.id })).is_error, true, 'not visible from s1');
    const self = await call('task_update', { task_id: x.id, add_blocked_by: [x.id] });
    assert.match(self.content, /cannot block itself/);
    const cycle = await call('task_update', { task_id: x.id, add_blocked_by: [z.id] });
    assert.equal(cycle.is_error, true);
    assert.match(cycle.content, /dependency cycle: task-\S+ → task-\S+ → task-\S+ → task-\S+/);
    assert.deepEqual((await call('task_get', { task_id: x.id })).body.blocked_by, [], 'nothing was applied');
    const bad = await call('task_update', { task_id: x.id, status: 'done' });
    assert.match(bad.content, /invalid arguments \(status:/);
  });

  test('task_delete archives: gone from lists and dependency lists (unblocking), still readable by id', async () => {
    const p = (await call('task_create', { title: 'prereq' })).body;
    const q = (await call('task_create', { title: 'next', blocked_by: [p.id] })).body;
    assert.equal(q.status, 'blocked');
    const del = (await call('task_delete', { task_id: p.id })).body;
    assert.equal(del.status, 'cancelled');
    assert.equal(del.metadata.archived, true);
    const after = (await call('task_get', { task_id: q.id })).body;
    assert.deepEqual(after.blocked_by, []);
    assert.equal(after.status, 'pending');
    const listed = (await call('task_list', {})).body.tasks.map((t: { id: string }) => t.id);
    assert.ok(!listed.includes(p.id) && listed.includes(q.id));
    const all = (await call('task_list', { include_archived: true })).body.tasks.map(
      (t: { id: string }) => t.id,
    );
    assert.ok(all.includes(p.id));
    assert.equal((await call('task_update', { task_id: p.id, title: 'again' })).is_error, true);
  });

  test('task_stop cancels a work task; task_output reports retrieval, not success', async () => {
    const t = (await call('task_create', { title: 'long', metadata: { k: 1 } })).body;
    const before = (await call('task_output', { task_id: t.id })).body;
    assert.equal(before.retrieval_status, 'not_ready');
    const waited = (await call('task_output', { task_id: t.id, wait: true, timeout_ms: 50 })).body;
    assert.equal(waited.retrieval_status, 'timeout');
    const stopped = (await call('task_stop', { task_id: t.id, reason: 'no longer needed' })).body;
    assert.equal(stopped.status, 'cancelled');
    assert.equal(stopped.metadata.stop_reason, 'no longer needed');
    assert.equal(stopped.metadata.k, 1);
    const out = (await call('task_output', { task_id: t.id, full: true })).body;
    assert.equal(out.retrieval_status, 'success');
    assert.equal(out.task.status, 'cancelled');
    assert.equal(out.output_file_path, null);
    const u = (await call('task_update', { task_id: t.id, metadata: { k: null, note: 'x' } })).body;
    assert.deepEqual(
      Object.keys(u.metadata).filter((k) => ['k', 'note'].includes(k)),
      ['note'],
    );
  });
});
