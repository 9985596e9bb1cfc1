// Master-key rotation under SIGKILL (issue 20, ops-runtime §16.3, decisions #552, #561): a
// `secrets rotate-master-key` killed at any point (before its transaction, between two re-sealed
// slots, after the commit) leaves every slot and the key-check record under ONE key, the old or the
// new, never a mix. The trials read the raw rows and try both keys on each envelope; then the CLI
// and a daemon confirm the surviving key works end to end.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type MasterKey, unseal } from '../../src/secrets/crypto.ts';
import { parseMasterKey } from '../../src/secrets/master-key.ts';
import { BIN, http, startDaemon, type TestDaemon, tempDir } from '../helpers/daemon.ts';
import { queryState, storeArgs } from './state-query.ts';

const baseEnv = { ...process.env };
for (const name of ['KHEISH_STATE_ROOT', 'KHEISH_DATABASE_URL', 'KHEISH_AUTH_STORE_MASTER_KEY_FILE'])
  delete baseEnv[name];
const gen = () => spawnSync(BIN, ['secrets', 'generate'], { encoding: 'utf8', env: baseEnv }).stdout.trim();
const TEXT = { A: gen(), B: gen() };
const KEYS: Record<'A' | 'B', MasterKey> = {
  A: parseMasterKey(TEXT.A, 'test'),
  B: parseMasterKey(TEXT.B, 'test'),
};
const dir = tempDir('kheish-rotation-crash-');
const keyFile = { A: join(dir, 'a.key'), B: join(dir, 'b.key') };
writeFileSync(keyFile.A, `${TEXT.A}\n`, { mode: 0o600 });
writeFileSync(keyFile.B, `${TEXT.B}\n`, { mode: 0o600 });
const SLOTS = ['s1.prod', 's2.prod', 's3.prod', 's4.prod', 's5.prod'];
const DELAY_MS = 80;

let d: TestDaemon;
after(async () => {
  await d?.stop();
  d?.cleanup();
});

/** Which key opens each slot envelope and the key-check record ('A', 'B' or '?'). */
async function keysInStore(): Promise<{ slots: string[]; check: string }> {
  const opens = (envelope: string, aad: string, expect?: string) => {
    for (const k of ['A', 'B'] as const) {
      try {
        const plain = unseal(KEYS[k], envelope, aad);
        if (expect === undefined || plain === expect) return k;
      } catch {
        // not this key
      }
    }
    return '?';
  };
  const rows = await queryState<{ slot_id: string; envelope: string; key_id: string }>(
    d,
    'SELECT slot_id, envelope, key_id FROM auth_slots ORDER BY slot_id',
  );
  assert.deepEqual(
    rows.map((r) => r.slot_id),
    SLOTS,
  );
  const slots = rows.map((r) => {
    const k = opens(r.envelope, `kheish:auth-slot:v1:${r.slot_id}`);
    // The recorded key id must agree with the key that actually opens the envelope.
    assert.equal(r.key_id, k === '?' ? null : KEYS[k].keyId, `key_id of ${r.slot_id}`);
    return k;
  });
  const [check] = await queryState<{ envelope: string }>(d, 'SELECT envelope FROM auth_key_check');
  return {
    slots,
    check: opens(check!.envelope, 'kheish:auth-key-check:v1', 'kheish auth-store key check v1'),
  };
}

/** Starts a rotation from `from` to the other key and SIGKILLs it at `when`. */
async function killRotation(from: 'A' | 'B', when: { afterSlot: number } | { afterMs: number }) {
  const to = from === 'A' ? 'B' : 'A';
  const child = spawn(
    BIN,
    [
      'secrets',
      'rotate-master-key',
      '--new-key-file',
      keyFile[to],
      '--state-root',
      d.stateRoot,
      ...storeArgs(d),
    ],
    {
      env: {
        ...baseEnv,
        KHEISH_AUTH_STORE_MASTER_KEY: TEXT[from],
        KHEISH_FAULT_OPS_DELAY_MS: String(DELAY_MS),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  await new Promise<void>((resolve) => {
    if ('afterMs' in when) setTimeout(resolve, when.afterMs);
    child.stderr.on('data', (b) => {
      stderr += b;
      if ('afterSlot' in when && stderr.includes(`re-sealed ${when.afterSlot}/`)) resolve();
    });
    void exited.then(() => resolve());
  });
  child.kill('SIGKILL');
  return { code: await exited, stderr };
}

test('SIGKILL at random points of `secrets rotate-master-key`: the old key or the new key opens every slot, never a mix', async (t) => {
  d = await startDaemon({ env: { KHEISH_AUTH_STORE_MASTER_KEY: TEXT.A } });
  for (const id of SLOTS) {
    const r = await http(d.url, 'POST', '/v1/runtime/secrets', {
      slot_id: id,
      provider: 'generic',
      mode: 'opaque_secret',
      state: { value: `value-of-${id}` },
    });
    assert.equal(r.status, 200);
  }
  await d.stop();
  let current: 'A' | 'B' = 'A';
  assert.deepEqual(await keysInStore(), { slots: SLOTS.map(() => 'A'), check: 'A' });
  // Mid-transaction kills (after slot k of 5 was re-sealed), then kills at random times, which
  // land before the transaction, inside it, or after the commit.
  const rnd = (n: number) => Math.floor(Math.random() * n);
  const plan: ({ afterSlot: number } | { afterMs: number })[] = [
    { afterSlot: 1 },
    { afterSlot: 1 + rnd(SLOTS.length - 1) },
    { afterSlot: SLOTS.length },
    ...Array.from({ length: 5 }, () => ({ afterMs: 300 + rnd(2200) })),
    { afterMs: 20_000 }, // lets it finish: the kill finds it gone
  ];
  const outcomes: string[] = [];
  for (const when of plan) {
    const { code, stderr } = await killRotation(current, when);
    const state = await keysInStore();
    const one = state.slots[0]!;
    assert.ok(
      one === 'A' || one === 'B',
      `${JSON.stringify(when)}: a slot opens with neither key\n${stderr}`,
    );
    assert.deepEqual(
      state,
      { slots: SLOTS.map(() => one), check: one },
      `${JSON.stringify(when)}: mixed keys`,
    );
    if ('afterSlot' in when) assert.equal(one, current, 'an uncommitted re-seal leaves the old key in force');
    if (code === 0) assert.notEqual(one, current, 'a finished rotation moved to the new key');
    outcomes.push(`${JSON.stringify(when)} -> ${one === current ? 'old' : 'new'} (exit ${code})`);
    current = one as 'A' | 'B';
  }
  t.diagnostic(outcomes.join('; '));
  assert.ok(
    outcomes.some((o) => o.includes('-> new')),
    'at least one rotation committed',
  );
  // The surviving key works end to end: the CLI reveals a slot, the other key is refused, and a
  // rotation run to its end (no fault) still finds every slot.
  const reveal = (k: 'A' | 'B') =>
    spawnSync(
      BIN,
      ['secrets', 'get', 's3.prod', '--reveal', '--offline', '--state-root', d.stateRoot, ...storeArgs(d)],
      {
        encoding: 'utf8',
        env: { ...baseEnv, KHEISH_AUTH_STORE_MASTER_KEY: TEXT[k] },
      },
    );
  assert.equal(reveal(current).stdout.trim(), 'value-of-s3.prod', outcomes.join('\n'));
  assert.notEqual(reveal(current === 'A' ? 'B' : 'A').status, 0);
  const next = current === 'A' ? 'B' : 'A';
  const done = spawnSync(
    BIN,
    [
      '--output',
      'json',
      'secrets',
      'rotate-master-key',
      '--new-key-file',
      keyFile[next],
      '--state-root',
      d.stateRoot,
      ...storeArgs(d),
    ],
    { encoding: 'utf8', env: { ...baseEnv, KHEISH_AUTH_STORE_MASTER_KEY: TEXT[current] } },
  );
  assert.equal(done.status, 0, done.stderr);
  assert.equal(JSON.parse(done.stdout).verified, SLOTS.length);
  d = await d.restart({ env: { KHEISH_AUTH_STORE_MASTER_KEY: TEXT[next] } });
  const slots = (await http(d.url, 'GET', '/v1/runtime/secrets')).body;
  assert.equal((slots.slots ?? slots.items ?? slots).length, SLOTS.length);
});
