// Backup under faults (issue 20): SIGKILL and Ctrl-C mid-backup leave the source untouched and no
// archive that claims to be complete; a full, read-only or impossible destination fails with a
// clear message and exit code and leaves nothing behind. A full disk is a real 512 KiB tmpfs when
// this process may mount one (root), and always an injected ENOSPC the copy code honours.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { BIN, tempDir } from '../helpers/daemon.ts';

const baseEnv = { ...process.env };
for (const name of ['KHEISH_STATE_ROOT', 'KHEISH_DATABASE_URL', 'KHEISH_AUTH_STORE_MASTER_KEY_FILE'])
  delete baseEnv[name];
const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(BIN, args, { encoding: 'utf8', env: { ...baseEnv, ...env }, timeout: 60_000 });

const work = tempDir('kheish-backup-faults-');
const root = join(work, 'state');
const KEY = cli(['secrets', 'generate']).stdout.trim();
const keyEnv = { KHEISH_AUTH_STORE_MASTER_KEY: KEY };
assert.equal(
  cli(
    ['secrets', 'set', 'a.b', '--provider', 'generic', '--value', 'v', '--offline', '--state-root', root],
    keyEnv,
  ).status,
  0,
);
for (let i = 0; i < 40; i++) {
  mkdirSync(join(root, 'blobs', 'assets', String(i % 10).padStart(2, '0')), { recursive: true });
  writeFileSync(
    join(root, 'blobs', 'assets', String(i % 10).padStart(2, '0'), `blob-${i}`),
    Buffer.alloc(20_000, i),
  );
}
const mounts: string[] = [];

after(() => {
  for (const m of mounts) spawnSync('umount', [m]);
  rmSync(work, { recursive: true, force: true });
});

/**
 * Digest of every file of the source that is state. The lock and pid are the holder's; opening the
 * database makes SQLite create its -shm index and an empty -wal, which change nothing.
 */
function sourceDigest(): string {
  const h = createHash('sha256');
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (['daemon.lock', 'daemon.lock-journal', 'daemon.pid', 'kheish.sqlite-shm'].includes(e.name))
        continue;
      const p = join(dir, e.name);
      if (e.name === 'kheish.sqlite-wal' && readFileSync(p).length === 0) continue;
      if (e.isDirectory()) walk(p);
      else h.update(p).update(readFileSync(p));
    }
  };
  walk(root);
  return h.digest('hex');
}

async function interruptMidway(out: string, signal: NodeJS.Signals) {
  const child = spawn(BIN, ['backup', '--state-root', root, out], {
    env: { ...baseEnv, ...keyEnv, KHEISH_FAULT_OPS_DELAY_MS: '60' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (b) => (stderr += b));
  const partial = `${out}.backup-partial`;
  const deadline = Date.now() + 20_000;
  while (
    !(
      existsSync(join(partial, 'state', 'blobs')) &&
      readdirSync(join(partial, 'state', 'blobs', 'assets')).length >= 3
    )
  ) {
    assert.ok(Date.now() < deadline, `backup never got going: ${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill(signal);
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  return { code, stderr, partial };
}

test('SIGKILL during a backup: the source is untouched and nothing claims to be a complete archive', async () => {
  const before = sourceDigest();
  const out = join(work, 'killed');
  const { partial } = await interruptMidway(out, 'SIGKILL');
  assert.equal(existsSync(out), false, 'the final name never appears before the manifest');
  assert.equal(existsSync(join(partial, 'manifest.json')), false);
  assert.equal(sourceDigest(), before);
  const restore = cli(['restore', partial, '--state-root', join(work, 'from-partial')], keyEnv);
  assert.equal(restore.status, 2);
  assert.match(restore.stderr, /not a complete backup/);
  // The next backup to the same path discards the leftovers and completes.
  const again = cli(['backup', '--state-root', root, out], keyEnv);
  assert.equal(again.status, 0, again.stderr);
  assert.equal(existsSync(partial), false);
  assert.equal(cli(['restore', out, '--state-root', join(work, 'from-again')], keyEnv).status, 0);
});

test('Ctrl-C during a backup exits 130 and removes what it wrote', async () => {
  const out = join(work, 'interrupted');
  const { code, stderr, partial } = await interruptMidway(out, 'SIGINT');
  assert.equal(code, 130, stderr);
  assert.match(stderr, /backup interrupted; nothing was left half-written/);
  assert.equal(existsSync(out), false);
  assert.equal(existsSync(partial), false);
});

test('Ctrl-C during a restore exits 130 and leaves neither the target nor a partial copy', async () => {
  const target = join(work, 'restore-interrupted');
  const child = spawn(BIN, ['restore', join(work, 'killed'), '--state-root', target], {
    env: { ...baseEnv, ...keyEnv, KHEISH_FAULT_OPS_DELAY_MS: '60' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (b) => (stderr += b));
  const deadline = Date.now() + 20_000;
  while (!existsSync(join(`${target}.restore-partial`, 'blobs'))) {
    assert.ok(Date.now() < deadline, `restore never got going: ${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGINT');
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  assert.equal(code, 130, stderr);
  assert.match(stderr, /restore interrupted/);
  assert.equal(existsSync(target), false);
  assert.equal(existsSync(`${target}.restore-partial`), false);
});

test('a full destination (injected ENOSPC) fails with exit 1 and what to do; nothing is left', () => {
  const out = join(work, 'full-injected');
  const r = cli(['backup', '--state-root', root, out], {
    ...keyEnv,
    KHEISH_FAULT_OPS_ENOSPC_AFTER_BYTES: '100000',
  });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /ENOSPC \(no space left on the device\)/);
  assert.match(r.stderr, /hint: free space there/);
  assert.equal(existsSync(out), false);
  assert.equal(existsSync(`${out}.backup-partial`), false);
});

function mountTmpfs(name: string, options: string): string | null {
  const dir = join(work, name);
  mkdirSync(dir);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  mounts.push(dir);
  return dir;
}

test('a really full file system (512 KiB tmpfs) and a read-only one fail cleanly', (t) => {
  const small = mountTmpfs('small', 'size=512k');
  const ro = mountTmpfs('ro', 'ro,size=64k');
  if (!small || !ro)
    return t.skip('cannot mount a tmpfs here (not root); the injected ENOSPC test covers the code path');
  const full = cli(['backup', '--state-root', root, join(small, 'b')], keyEnv);
  assert.equal(full.status, 1, full.stderr);
  assert.match(full.stderr, /ENOSPC|no space/);
  assert.deepEqual(readdirSync(small), [], 'nothing left on the full disk');
  const readOnly = cli(['backup', '--state-root', root, join(ro, 'b')], keyEnv);
  assert.equal(readOnly.status, 1, readOnly.stderr);
  assert.match(readOnly.stderr, /EROFS|read-only/);
});

test('bad destinations and sources: exists, under a file, inside the state root, no state', () => {
  const exists = cli(['backup', '--state-root', root, work], keyEnv);
  assert.equal(exists.status, 2);
  assert.match(exists.stderr, /already exists/);
  writeFileSync(join(work, 'a-file'), 'x');
  const underFile = cli(['backup', '--state-root', root, join(work, 'a-file', 'b')], keyEnv);
  assert.equal(underFile.status, 2, underFile.stderr);
  assert.match(underFile.stderr, /ENOTDIR/);
  const inside = cli(['backup', '--state-root', root, join(root, 'b')], keyEnv);
  assert.equal(inside.status, 2);
  assert.match(inside.stderr, /inside the state root/);
  const none = cli(['backup', '--state-root', join(work, 'nothing'), join(work, 'c')], keyEnv);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /does not exist/);
  const notEmpty = cli(['restore', join(work, 'killed'), '--state-root', root], keyEnv);
  assert.equal(notEmpty.status, 2);
  assert.match(notEmpty.stderr, /is not empty/);
});
