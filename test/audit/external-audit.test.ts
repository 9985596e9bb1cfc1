// The signed external-action audit end to end (ops-runtime §5.6, #45): every boundary a run
// crosses leaves a chained, signed record; `audit verify` names the first bad record after a
// flipped byte, a dropped record or two reordered ones, in the database and in an export file;
// an unloadable key or an unwritable ledger refuses external actions while reads are served.
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createCli } from '../../src/cli/program.ts';
import type { CliIo } from '../../src/cli/runtime.ts';
import { http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { queryState } from '../helpers/state-query.ts';
import { allowInserts, execState, refuseInserts } from '../helpers/state-write.ts';
import { commandHook, script, setHooks } from '../hooks/hook-scripts.ts';

const SCRIPT = {
  rules: [
    {
      match: '^write',
      turns: [
        { tool_calls: [{ name: 'write_file', arguments: { path: 'a.txt', content: 'one' } }] },
        { tool_calls: [{ name: 'write_file', arguments: { path: 'b.txt', content: 'two' } }] },
        { text: 'wrote' },
      ],
    },
  ],
  default: { turns: [{ text: 'ok' }] },
};

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = {
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
    readStdin: async () => '',
    onInterrupt: () => () => undefined,
  };
  const code = await createCli({ io }).run(['node', 'kheish-daemon', ...args]);
  return { code, out, err };
}

const source = (d: TestDaemon) =>
  d.databaseUrl
    ? ['--state-root', d.stateRoot, '--database-url', d.databaseUrl]
    : ['--state-root', d.stateRoot];

async function runToEnd(d: TestDaemon, content: string) {
  const session = (await http(d.url, 'POST', '/v1/sessions', {})).body.session_id as string;
  const res = await http(d.url, 'POST', `/v1/sessions/${session}/runs`, { content });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return waitForRun(d.url, res.body.run_id);
}

let daemon: TestDaemon;
let runId: string;
const keyDir = tempDir('kheish-audit-key-');
const keyFile = join(keyDir, 'audit.key');
writeFileSync(keyFile, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }), {
  mode: 0o600,
});
const publicKeyFile = join(keyDir, 'audit.pub');
writeFileSync(
  publicKeyFile,
  createPublicKey(createPrivateKey(readFileSync(keyFile))).export({ format: 'pem', type: 'spki' }),
);

before(async () => {
  const workspace = tempDir('kheish-audit-ws-');
  daemon = await startDaemon({
    script: SCRIPT,
    args: ['--workspace-root', workspace],
    env: { KHEISH_EXTERNAL_ACTION_AUDIT_SIGNING_KEY_FILE: keyFile },
  });
  await http(daemon.url, 'POST', '/v1/runtime/permission-mode', { mode: 'acceptEdits' });
  const run = await runToEnd(daemon, 'write two files');
  assert.equal(run.status, 'completed', JSON.stringify(run));
  runId = run.run_id;
});
after(async () => {
  await daemon.kill();
  await daemon.cleanup();
});

/** The run's rows, as (seq, record) for tampering. */
const rowsOf = async (d: TestDaemon, id: string) =>
  (
    await queryState<{ seq: number; record: string }>(
      d,
      'select seq, record from external_actions where run_id = ? order by seq',
      [id],
    )
  ).map((r) => ({ seq: Number(r.seq), record: r.record }));

test('ops-runtime #45: provider requests and tool side effects are signed records chained by prev_hash', async () => {
  const all = (await http(daemon.url, 'GET', `/v1/runs/${runId}/external-actions`)).body;
  // Three model calls (two tool turns and the answer), two side effects (started + completed each).
  assert.deepEqual(
    all.map((a: { kind: string; phase: string }) => `${a.kind}:${a.phase}`),
    [
      'provider_request:completed',
      'tool:started',
      'tool:completed',
      'provider_request:completed',
      'tool:started',
      'tool:completed',
      'provider_request:completed',
    ],
  );
  assert.equal(all[0].prev_hash, '0'.repeat(64));
  for (let i = 1; i < all.length; i++) assert.equal(all[i].prev_hash, all[i - 1].record_hash);
  for (const a of all) {
    assert.equal(a.signature_alg, 'ed25519');
    assert.match(a.key_id, /^ed25519:[0-9a-f]{16}$/);
    assert.match(a.request_digest, /^[0-9a-f]{64}$/);
  }
  assert.equal(all[0].target, 'local/scripted');
  assert.equal(all[0].outcome, 'succeeded');
  const ok = await cli(['audit', 'verify', runId, ...source(daemon), '--public-key', publicKeyFile]);
  assert.equal(ok.code, 0, ok.out + ok.err);
  assert.match(ok.out, /ok: 7 record\(s\) in 1 chain\(s\) verify/);
  // The whole ledger, trusting the configured key (the same file serve uses).
  process.env.KHEISH_EXTERNAL_ACTION_AUDIT_SIGNING_KEY_FILE = keyFile;
  try {
    const whole = await cli(['audit', 'verify', ...source(daemon), '--output', 'json']);
    assert.equal(whole.code, 0, whole.out + whole.err);
    assert.equal(JSON.parse(whole.out).ok, true);
  } finally {
    delete process.env.KHEISH_EXTERNAL_ACTION_AUDIT_SIGNING_KEY_FILE;
  }
});

test('ops-runtime #45: command hooks are signed into the run chain, hooks outside a run into the daemon chain', async () => {
  const dir = tempDir('kheish-audit-hooks-');
  const ok = script(dir, 'ok.sh', 'cat > /dev/null; echo "{}"');
  const set = await setHooks(daemon.url, {
    pre_tool_use: [commandHook('guard', ok)],
    session_start: [commandHook('greeter', ok)],
  });
  assert.equal(set.status, 200, JSON.stringify(set.body));
  try {
    const run = await runToEnd(daemon, 'write again');
    assert.equal(run.status, 'completed', JSON.stringify(run));
    const kinds = (await http(daemon.url, 'GET', `/v1/runs/${run.run_id}/external-actions`)).body.map(
      (a: { kind: string; target: string }) => `${a.kind}:${a.target}`,
    );
    assert.equal(kinds.filter((k: string) => k === 'hook_command:guard@command').length, 2, kinds.join());
    const daemonChain = await queryState<{ record: string }>(
      daemon,
      "select record from external_actions where run_id = 'daemon' order by seq",
    );
    const greeted = daemonChain
      .map((r) => JSON.parse(r.record))
      .filter((r) => r.target === 'greeter@command');
    assert.ok(greeted.length >= 1);
    assert.equal(greeted[0].principal_id, `session:${run.session_id}`);
    const whole = await cli(['audit', 'verify', ...source(daemon), '--public-key', publicKeyFile]);
    assert.equal(whole.code, 0, whole.out + whole.err);
  } finally {
    await setHooks(daemon.url, {});
  }
});

test('audit verify names the first bad record in the database: flipped byte, dropped record, two reordered', async () => {
  const original = await rowsOf(daemon, runId);
  const put = (seq: number, record: string) =>
    execState(daemon, 'update external_actions set record = ? where run_id = ? and seq = ?', [
      record,
      runId,
      seq,
    ]);
  const verify = async () => {
    const r = await cli([
      'audit',
      'verify',
      runId,
      ...source(daemon),
      '--public-key',
      publicKeyFile,
      '--output',
      'json',
    ]);
    assert.equal(r.code, 1, r.out + r.err);
    return JSON.parse(r.out).first_bad;
  };
  const actionAt = (seq: number) => JSON.parse(original[seq - 1]!.record).action_id;
  try {
    // One byte of the third record's target changes.
    await put(3, original[2]!.record.replace('"target":"write_file"', '"target":"write_filf"'));
    let bad = await verify();
    assert.equal(bad.seq, 3);
    assert.equal(bad.action_id, actionAt(3));
    assert.match(bad.reason, /record was altered/);
    await put(3, original[2]!.record);

    // Seq 4 removed: seq 5 is the first that does not verify.
    await execState(daemon, 'delete from external_actions where run_id = ? and seq = ?', [runId, 4]);
    bad = await verify();
    assert.equal(bad.seq, 5);
    assert.equal(bad.action_id, actionAt(5));
    assert.match(bad.reason, /1 record\(s\) before it are missing/);
    const row = JSON.parse(original[3]!.record);
    await execState(
      daemon,
      'insert into external_actions (action_id, run_id, seq, record) values (?, ?, ?, ?)',
      [row.action_id, runId, 4, original[3]!.record],
    );

    // Seq 2 and 3 swap places.
    await put(2, original[2]!.record);
    await put(3, original[1]!.record);
    bad = await verify();
    assert.equal(bad.seq, 2);
    assert.equal(bad.action_id, actionAt(3));
    assert.match(bad.reason, /prev_hash does not match/);
  } finally {
    for (const r of original) await put(r.seq, r.record);
  }
  const clean = await cli(['audit', 'verify', runId, ...source(daemon), '--public-key', publicKeyFile]);
  assert.equal(clean.code, 0, clean.out + clean.err);
});

test('audit verify names the first bad record of an exported file; a foreign key is not trusted', async () => {
  const file = join(tempDir('kheish-audit-export-'), 'ledger.jsonl');
  const exported = await cli(['audit', 'export', ...source(daemon), '--out', file]);
  assert.equal(exported.code, 0, exported.err);
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  assert.equal(JSON.parse(lines[0]!).format, 'kheish-external-actions/1');
  const ok = await cli(['audit', 'verify', '--file', file, '--public-key', publicKeyFile]);
  assert.equal(ok.code, 0, ok.out + ok.err);
  const mine = lines.map((l, i) => ({ i, v: JSON.parse(l) })).filter((x) => x.v.run_id === runId);
  const check = async (tampered: string[], seq: number, reason: RegExp) => {
    writeFileSync(file, `${tampered.join('\n')}\n`);
    const r = await cli(['audit', 'verify', runId, '--file', file, '--public-key', publicKeyFile]);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, new RegExp(`run ${runId}: first bad record at position ${seq} `));
    assert.match(r.out, reason);
  };
  // A flipped byte inside the fourth record's digest.
  const flipped = [...lines];
  const at = mine[3]!.i;
  flipped[at] = flipped[at]!.replace(
    /"request_digest":"(.)/,
    (_m, c) => `"request_digest":"${c === 'a' ? 'b' : 'a'}`,
  );
  await check(flipped, 4, /record was altered/);
  // The second record's line dropped.
  await check(
    lines.filter((_, i) => i !== mine[1]!.i),
    3,
    /missing/,
  );
  // The fifth and sixth lines swapped.
  const swapped = [...lines];
  [swapped[mine[4]!.i], swapped[mine[5]!.i]] = [swapped[mine[5]!.i]!, swapped[mine[4]!.i]!];
  await check(swapped, 6, /out of order/);
  // Re-signed with another key: the chain is intact but the key is not the one we trust.
  writeFileSync(file, `${lines.join('\n')}\n`);
  const other = join(tempDir('kheish-audit-other-'), 'other.pub');
  writeFileSync(other, generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }));
  const foreign = await cli(['audit', 'verify', '--file', file, '--public-key', other]);
  assert.equal(foreign.code, 1);
  assert.match(foreign.out, /not a trusted key/);
});

test('ops-runtime #45: an unwritable ledger refuses the external action and the run fails with the typed error', async () => {
  await refuseInserts(daemon, 'external_actions');
  try {
    const run = await runToEnd(daemon, 'hello');
    assert.equal(run.status, 'failed');
    assert.equal(run.error_code, 'external_audit_unavailable');
    assert.equal(
      (await queryState(daemon, 'select 1 from external_actions where run_id = ?', [run.run_id])).length,
      0,
    );
    // The outcome is reported (not ready for external actions) with an action to take.
    const status = (await http(daemon.url, 'GET', '/v1/status')).body;
    assert.equal(status.ready, false);
    assert.equal(status.external_audit.available, false);
    const w = status.health.warnings.find((x: { code: string }) => x.code === 'external_audit_unavailable');
    assert.ok(w?.action, JSON.stringify(status.health.warnings));
    assert.equal((await http(daemon.url, 'GET', '/readyz')).status, 503);
  } finally {
    await allowInserts(daemon, 'external_actions');
  }
  // The next action writes again and the daemon is ready again.
  const again = await runToEnd(daemon, 'hello');
  assert.equal(again.status, 'completed');
  assert.equal((await http(daemon.url, 'GET', '/readyz')).status, 200);
  assert.equal((await http(daemon.url, 'GET', '/v1/status')).body.external_audit.available, true);
});

for (const [what, content] of [
  ['a key file that does not exist', null],
  ['a key file that is not a key', 'not a pem key\n'],
  [
    'an RSA key',
    generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }),
  ],
] as const) {
  test(`ops-runtime #45: with ${what}, external actions are refused and reads are served`, async () => {
    const dir = tempDir('kheish-audit-badkey-');
    const file = join(dir, 'missing.key');
    if (content !== null) writeFileSync(file, content, { mode: 0o600 });
    const d = await startDaemon({ env: { KHEISH_EXTERNAL_ACTION_AUDIT_SIGNING_KEY_FILE: file } });
    try {
      assert.match(d.logs(), /external-action audit is unavailable/);
      const ready = await http(d.url, 'GET', '/readyz');
      assert.equal(ready.status, 503);
      assert.equal(ready.body.code, 'external_audit_unavailable');
      const status = (await http(d.url, 'GET', '/v1/status')).body;
      assert.equal(status.status, 'not_ready');
      assert.equal(status.external_audit.key_id, null);
      assert.ok(
        status.health.warnings.some((x: { code: string }) => x.code === 'external_audit_unavailable'),
      );
      const run = await runToEnd(d, 'hello');
      assert.equal(run.status, 'failed');
      assert.equal(run.error_code, 'external_audit_unavailable');
      assert.match(run.error, /external action refused/);
      // Nothing was generated in place of the named key, and reads are still served.
      if (content === null) assert.throws(() => readFileSync(file));
      assert.equal((await http(d.url, 'GET', `/v1/runs/${run.run_id}`)).status, 200);
      assert.equal((await http(d.url, 'GET', '/v1/sessions')).status, 200);
      assert.deepEqual((await http(d.url, 'GET', `/v1/runs/${run.run_id}/external-actions`)).body, []);
      // A hook that would leave the daemon is refused too; a closed failure policy then blocks.
      const hookDir = tempDir('kheish-audit-badkey-hook-');
      const touched = join(hookDir, 'ran');
      const hook = script(hookDir, 'touch.sh', `touch ${touched}; echo "{}"`);
      await setHooks(d.url, {
        session_start: [commandHook('closed', hook, { failure_policy: { mode: 'closed' } })],
      });
      const blocked = await http(d.url, 'POST', '/v1/sessions', {});
      assert.equal(blocked.status, 409, JSON.stringify(blocked.body));
      assert.match(blocked.body.detail, /external action refused/);
      assert.throws(() => readFileSync(touched));
    } finally {
      await d.kill();
      await d.cleanup();
    }
  });
}

test('the start-up warning names a key inside the state root, and only then', async () => {
  const d = await startDaemon();
  try {
    assert.match(d.logs(), /audit signing key is inside the state root/);
    const status = (await http(d.url, 'GET', '/v1/status')).body;
    assert.equal(status.external_audit.key_in_state_root, true);
    assert.equal(status.external_audit.key_source, 'state_root');
    const w = status.health.warnings.find((x: { code: string }) => x.code === 'audit_key_in_state_root');
    assert.equal(w?.severity, 'info');
    assert.equal(status.ready, true);
  } finally {
    await d.kill();
    await d.cleanup();
  }
  assert.doesNotMatch(daemon.logs(), /inside the state root/);
  const status = (await http(daemon.url, 'GET', '/v1/status')).body;
  assert.equal(status.external_audit.key_in_state_root, false);
  assert.equal(status.external_audit.key_source, 'file');
});
