import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { registerBuiltinFileTools } from '../../src/tools/builtin/index.ts';
import { effectiveLimits, type ToolRuntimeLimits } from '../../src/tools/builtin/limits.ts';
import { lockedPathCount, withPathLocks } from '../../src/tools/builtin/locks.ts';
import { ToolRegistry } from '../../src/tools/registry.ts';
import { closeSearchWorkers, sandbox } from './helpers.ts';

after(() => closeSearchWorkers());

test('limits: defaults, the spec object passes through, non-positive values fall back', () => {
  // The daemon-wide defaults (src/tools/runtime-limits.ts): one default per limit.
  const d = effectiveLimits(undefined);
  assert.equal(d.max_input_bytes, 16 * 1024 * 1024);
  assert.equal(d.max_output_bytes, 16 * 1024 * 1024);
  assert.equal(d.max_timeout_ms, 180_000);
  assert.equal(d.max_read_bytes, 256 * 1024, 'one read stays small whatever the output cap');
  const spec: ToolRuntimeLimits = {
    max_input_bytes: 100,
    max_output_bytes: 1000,
    max_timeout_ms: 50,
    max_parallel_tools: 16,
    max_sandbox: 'network_enabled',
  };
  const e = effectiveLimits(spec);
  assert.equal(e.max_input_bytes, 100);
  assert.equal(e.max_read_bytes, 500, 'reads fit in half the output cap');
  assert.equal(
    effectiveLimits({ max_output_bytes: 0, max_timeout_ms: -1 }).max_output_bytes,
    16 * 1024 * 1024,
  );
  assert.equal(effectiveLimits(() => ({ max_timeout_ms: 7 })).max_timeout_ms, 7);
});

test('a limits getter applies live changes to the next call', async () => {
  let current: ToolRuntimeLimits = {};
  const registry = new ToolRegistry();
  registerBuiltinFileTools(registry, () => current);
  const s = await sandbox();
  try {
    const ctx = {
      run_id: 'r',
      session_id: 's',
      agent_id: 'a',
      tool_call_id: 'c',
      workspace_root: s.ws,
      signal: new AbortController().signal,
    };
    const call = {
      id: 'c',
      name: 'write_file',
      arguments: { path: 'a.txt', content: 'x'.repeat(500) },
    } as never;
    assert.equal((await registry.execute(call, ctx)).is_error, false);
    current = { max_input_bytes: 100 };
    const r = await registry.execute(call, ctx);
    assert.equal(r.is_error, true);
    assert.match(r.content, /over max_input_bytes \(100\)/);
  } finally {
    await s.cleanup();
  }
});

test('registration keeps a tool someone registered first under the same name', () => {
  const registry = new ToolRegistry();
  const mine = {
    name: 'write_file',
    description: 'test double',
    input_schema: { type: 'object' },
    side_effects: true,
    execute: async () => ({ content: 'mine', is_error: false }),
  };
  registry.register(mine);
  registerBuiltinFileTools(registry);
  assert.equal(registry.get('write_file'), mine);
  assert.equal(registry.list().length, 7);
});

test('results over max_output_bytes are cut with a marker saying how to get the rest', async () => {
  const s = await sandbox({ max_output_bytes: 2048 });
  try {
    for (let i = 0; i < 200; i++) await s.put(`many/file-${String(i).padStart(3, '0')}.txt`, 'x');
    const r = await s.ok('list_files', { limit: 2000 });
    assert.equal(r.truncated, true);
    assert.match(r.notice, /output capped at about 2048 bytes; more paths exist/);
    const raw = await s.call('list_files', { limit: 2000 });
    assert.ok(Buffer.byteLength(raw.content) <= 2048);
    await s.put('big.txt', 'y\n'.repeat(5000));
    const read = await s.ok('read_file', { path: 'big.txt' });
    assert.equal(read.truncated, true);
    assert.equal(read.content.length, 1024);
    assert.match(read.notice, /start_line=513/);
  } finally {
    await s.cleanup();
  }
});

test('an already-cancelled run gets no tool execution', async () => {
  const s = await sandbox();
  try {
    const ac = new AbortController();
    ac.abort(new Error('cancelled before start'));
    await assert.rejects(
      s.call('write_file', { path: 'never.txt', content: 'x' }, { signal: ac.signal }),
      /cancelled before start/,
    );
    assert.match(await s.err('read_file', { path: 'never.txt' }), /does not exist/);
  } finally {
    await s.cleanup();
  }
});

test('path locks serialize per key, in sorted order, and are released after errors', async () => {
  const order: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  let started!: () => void;
  const firstStarted = new Promise<void>((r) => {
    started = r;
  });
  const first = withPathLocks(['/w/b', '/w/a'], async () => {
    order.push('first-start');
    started();
    await gate;
    order.push('first-end');
  });
  await firstStarted;
  const second = withPathLocks(['/w/a'], async () => {
    order.push('second');
  });
  const other = withPathLocks(['/w/c'], async () => {
    order.push('other');
  });
  await other;
  assert.deepEqual(order, ['first-start', 'other']);
  release();
  await Promise.all([first, second]);
  assert.deepEqual(order, ['first-start', 'other', 'first-end', 'second']);
  await assert.rejects(
    withPathLocks(['/w/a'], async () => {
      throw new Error('boom');
    }),
    /boom/,
  );
  await withPathLocks(['/w/a'], async () => {});
  assert.equal(lockedPathCount(), 0);
});

test('an edit and a patch of the same file at once both apply', async () => {
  const s = await sandbox();
  try {
    await s.put('shared.txt', 'first\nsecond\n');
    const [a, b] = await Promise.all([
      s.call('edit_file', { path: 'shared.txt', old_text: 'first', new_text: 'FIRST' }),
      s.call('apply_patch', { hunks: [{ path: 'shared.txt', old_text: 'second', new_text: 'SECOND' }] }),
    ]);
    assert.equal(a.is_error, false, a.content);
    assert.equal(b.is_error, false, b.content);
    assert.equal(await s.read('shared.txt'), 'FIRST\nSECOND\n');
  } finally {
    await s.cleanup();
  }
});
