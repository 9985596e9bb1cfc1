// The hook dispatcher on its own (real store, real route inventory and tool registry): declaration
// order and short-circuit on policy events, aggregation on observers, the failure policy, outcome
// contract versions, typed callbacks, stable invocation keys, and dead-letter pruning.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { builtinDemoRoutes } from '../../src/config/routes-file.ts';
import { ExternalAudit } from '../../src/engine/external-audit.ts';
import type { HookFire } from '../../src/engine/hook-port.ts';
import { HookDispatcher, invocationKey } from '../../src/features/hooks/dispatcher.ts';
import type { HookSettingsValue } from '../../src/features/hooks/settings-schema.ts';
import { validateHookSettings } from '../../src/features/hooks/settings-schema.ts';
import { RouteInventory } from '../../src/models/route-inventory.ts';
import {
  DEAD_LETTER_LIMITS,
  deadLetterCounts,
  listDeadLetters,
} from '../../src/store/repos/hook-dead-letters.ts';
import { Store } from '../../src/store/store.ts';
import { ToolRegistry } from '../../src/tools/registry.ts';
import { tempDir } from '../helpers/daemon.ts';

let store: Store;
let hooks: HookDispatcher;
const calls: string[] = [];
before(async () => {
  const root = tempDir('kheish-hook-dispatch-');
  store = await Store.open({ stateRoot: root });
  hooks = new HookDispatcher({
    store,
    audit: ExternalAudit.open(root),
    routes: new RouteInventory(builtinDemoRoutes()),
    tools: new ToolRegistry(),
    workspaceRoot: null,
    http: {},
    secretValues: () => ['s3cret-value'],
    log: { warn: () => undefined },
  });
  const cb = (name: string, outcome: unknown) =>
    hooks.callbacks.set(name, async (inv) => {
      calls.push(`${name}:${inv.event}:${inv.subject ?? ''}`);
      if (outcome instanceof Error) throw outcome;
      return outcome as never;
    });
  cb('allow', { permission: 'allow', additional_contexts: ['a'] });
  cb('block', { decision: 'block', stop_reason: 'nope' });
  cb('ctx', { additional_contexts: ['b'], updated_output: 'changed' });
  cb('future', { contract_version: 2 });
  cb('boom', new Error('exploded with s3cret-value inside'));
});
after(async () => {
  await store.close();
});

const callback = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  executor: { type: 'callback', name, timeout_ms: 1000 },
  ...extra,
});
const use = (hooksByEvent: Record<string, unknown[]>) =>
  hooks.activate(validateHookSettings({ hooks: hooksByEvent }, { exempt: () => false }) as HookSettingsValue);
const fire = (f: Partial<HookFire> & Pick<HookFire, 'event'>) =>
  hooks.fire({ identity: 'id-1', payload: {}, ...f }, AbortSignal.timeout(5000));

test('policy events run in declaration order and stop at the first block; later hooks never run', async () => {
  use({ pre_tool_use: [callback('allow'), callback('block'), callback('ctx')] });
  calls.length = 0;
  const v = await fire({ event: 'pre_tool_use', subject: 'bash' });
  assert.deepEqual(calls, ['allow:pre_tool_use:bash', 'block:pre_tool_use:bash']);
  assert.equal(v.blocked, true);
  assert.equal(v.reason, 'nope');
  assert.deepEqual(
    v.hooks.map((h) => h.result),
    ['ok', 'blocked'],
  );
});

test('observer events run every hook, aggregate contexts and never block', async () => {
  use({ permission_denied: [callback('block'), callback('allow'), callback('ctx')] });
  calls.length = 0;
  const v = await fire({ event: 'permission_denied', subject: 'bash' });
  assert.equal(calls.length, 3);
  assert.equal(v.blocked, false);
  assert.deepEqual(v.additional_contexts, ['a', 'b']);
  assert.equal(v.updated_output, 'changed');
});

test('matchers: names, prefixes and alternatives against the subject', async () => {
  use({ pre_tool_use: [callback('ctx', { matcher: 'mcp__*|read_file' })] });
  calls.length = 0;
  await fire({ event: 'pre_tool_use', subject: 'bash' });
  await fire({ event: 'pre_tool_use', subject: 'mcp__github__issues' });
  await fire({ event: 'pre_tool_use', subject: 'read_file' });
  assert.deepEqual(calls, ['ctx:pre_tool_use:mcp__github__issues', 'ctx:pre_tool_use:read_file']);
});

test('a future outcome contract_version is malformed (terminal: no retries); closed blocks, open does not', async () => {
  use({ session_start: [callback('future', { failure_policy: { mode: 'closed', max_retries: 3 } })] });
  calls.length = 0;
  const closed = await fire({ event: 'session_start' });
  assert.equal(calls.length, 1, 'not retried');
  assert.equal(closed.blocked, true);
  assert.match(closed.reason!, /contract 2/);
  use({ session_start: [callback('future', { failure_policy: { mode: 'open' } })] });
  const open = await fire({ event: 'session_start' });
  assert.equal(open.blocked, false);
  assert.equal(open.hooks[0]!.result, 'failed_open');
});

test('a throwing callback follows the policy; its dead letter is redacted (no secret value)', async () => {
  use({ setup: [callback('boom', { failure_policy: { mode: 'closed' } })] });
  const v = await fire({ event: 'setup', identity: 'boom-1' });
  assert.equal(v.blocked, true);
  const [dl] = await listDeadLetters(store.db, 1);
  assert.equal(dl!.hook_name, 'boom');
  assert.equal(dl!.target, 'callback:boom');
  assert.equal(dl!.failure_mode, 'closed');
  assert.equal(dl!.invocation_key, invocationKey('setup', 'boom-1'));
  assert.ok(!dl!.error.includes('s3cret-value'), dl!.error);
  assert.match(dl!.error, /\[redacted\]/);
});

test('the invocation key is stable for the same event and identity, different otherwise', () => {
  assert.equal(invocationKey('pre_tool_use', 'run-1:call-1'), invocationKey('pre_tool_use', 'run-1:call-1'));
  assert.notEqual(
    invocationKey('pre_tool_use', 'run-1:call-1'),
    invocationKey('post_tool_use', 'run-1:call-1'),
  );
  assert.notEqual(
    invocationKey('pre_tool_use', 'run-1:call-1'),
    invocationKey('pre_tool_use', 'run-1:call-2'),
  );
});

test('dead letters are pruned by count and by total bytes, newest kept', async () => {
  const saved = { ...DEAD_LETTER_LIMITS };
  try {
    DEAD_LETTER_LIMITS.count = 3;
    use({ setup: [callback('boom')] });
    for (let i = 0; i < 5; i++) await fire({ event: 'setup', identity: `prune-${i}` });
    assert.equal((await deadLetterCounts(store.db)).total, 3);
    const newest = await listDeadLetters(store.db, 3);
    assert.equal(newest[0]!.invocation_key, invocationKey('setup', 'prune-4'));
    DEAD_LETTER_LIMITS.count = 100;
    DEAD_LETTER_LIMITS.bytes = Buffer.byteLength(JSON.stringify(newest[0])) * 2 + 10;
    await fire({ event: 'setup', identity: 'prune-5' });
    assert.equal((await deadLetterCounts(store.db)).total, 2);
  } finally {
    Object.assign(DEAD_LETTER_LIMITS, saved);
  }
});
