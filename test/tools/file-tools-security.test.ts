// Hostile inputs against the file tools. Each must be refused with a clear error and leave
// everything outside the workspace exactly as it was (asserted by snapshots of the sibling
// directory and /etc/hostname-like files after every case and at the end).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { mkfifo } from './fifo.ts';
import { closeSearchWorkers, type Sandbox, sandbox, snapshot } from './helpers.ts';

let s: Sandbox;
let outsideBefore: string;
let passwdBefore: string;
const SECRET = 'TOP SECRET outside the workspace\n';

const digest = async (p: string) =>
  createHash('sha256')
    .update(await readFile(p))
    .digest('hex');

before(async () => {
  s = await sandbox({ max_input_bytes: 64 * 1024 });
  await writeFile(`${s.outside}/secret.txt`, SECRET);
  await mkdir(`${s.outside}/dir`);
  await s.put('inside.txt', 'inside\n');
  await s.put('real/file.txt', 'real\n');
  await symlink('/etc/passwd', `${s.ws}/passwd-link`);
  await symlink(s.outside, `${s.ws}/out-link`);
  await symlink('../outside/secret.txt', `${s.ws}/relative-secret`);
  await mkdir(`${s.ws}/a`);
  await symlink(s.outside, `${s.ws}/a/b`);
  await symlink(`${s.outside}/not-yet.txt`, `${s.ws}/dangling-file`);
  await symlink(`${s.outside}/new-dir`, `${s.ws}/dangling-dir`);
  await symlink('real/file.txt', `${s.ws}/inner-link`);
  await mkfifo(`${s.ws}/fifo`);
  outsideBefore = await snapshot(s.outside);
  passwdBefore = await digest('/etc/passwd');
});

after(async () => {
  assert.equal(await snapshot(s.outside), outsideBefore, 'the sibling directory is unchanged');
  assert.equal(await digest('/etc/passwd'), passwdBefore, '/etc/passwd is unchanged');
  await closeSearchWorkers();
  await s.cleanup();
});

async function refused(name: string, args: Record<string, unknown>, re: RegExp): Promise<void> {
  const r = await s.call(name, args);
  assert.equal(
    r.is_error,
    true,
    `${name} ${JSON.stringify(args).slice(0, 200)} should be refused: ${r.content}`,
  );
  assert.match(r.content, re);
  assert.ok(!r.content.includes('TOP SECRET'), 'no outside content leaks into the error');
  assert.ok(!/\n\s+at /.test(r.content), 'no stack trace');
  assert.equal(await snapshot(s.outside), outsideBefore);
}

const ESCAPE = /escapes the workspace root|outside the workspace/;

test('1-3: `..` escapes, plain and hidden behind inner directories, on every tool', async () => {
  await refused('read_file', { path: '../outside/secret.txt' }, ESCAPE);
  await refused('read_file', { path: 'real/../../outside/secret.txt' }, ESCAPE);
  await refused('write_file', { path: '../outside/secret.txt', content: 'pwned' }, ESCAPE);
  await refused('edit_file', { path: '../outside/secret.txt', old_text: 'TOP', new_text: 'x' }, ESCAPE);
  await refused('list_files', { base: '..' }, ESCAPE);
  await refused('glob_search', { pattern: '*', base: '../outside' }, ESCAPE);
  await refused('grep_search', { pattern: 'SECRET', base: '..' }, ESCAPE);
});

test('4-6: absolute paths outside the workspace, including ones that start inside it', async () => {
  await refused('read_file', { path: '/etc/passwd' }, /absolute path outside the workspace/);
  await refused('write_file', { path: `${s.outside}/secret.txt`, content: 'pwned' }, /absolute path outside/);
  await refused('read_file', { path: `${s.ws}/../outside/secret.txt` }, /absolute path outside/);
  await refused('write_file', { path: '/tmp/kheish-escape.txt', content: 'x' }, /absolute path outside/);
  await refused('list_files', { base: '/' }, /absolute path outside/);
});

test('7: /proc paths (another way to reach the root or the cwd) are outside', async () => {
  await refused('read_file', { path: '/proc/self/root/etc/passwd' }, /absolute path outside/);
  await refused('read_file', { path: '/proc/self/environ' }, /absolute path outside/);
  await refused('write_file', { path: '/proc/self/cwd/x.txt', content: 'x' }, /absolute path outside/);
});

test('8-10: symbolic links to /etc or a sibling directory are refused for reading', async () => {
  const THROUGH = /resolves outside the workspace through a symbolic link/;
  await refused('read_file', { path: 'passwd-link' }, THROUGH);
  await refused('read_file', { path: 'relative-secret' }, THROUGH);
  await refused('read_file', { path: 'out-link/secret.txt' }, THROUGH);
  await refused('list_files', { base: 'out-link' }, THROUGH);
  await refused('grep_search', { pattern: 'SECRET', base: 'out-link' }, THROUGH);
  await refused('glob_search', { pattern: '*.txt', base: 'a/b' }, THROUGH);
});

test('11-13: writing through a symlinked parent directory or onto a link is refused', async () => {
  await refused('write_file', { path: 'out-link/new.txt', content: 'x' }, /resolves outside the workspace/);
  await refused('write_file', { path: 'a/b/c/d/new.txt', content: 'x' }, /resolves outside the workspace/);
  await refused('write_file', { path: 'passwd-link', content: 'x' }, /is a symbolic link; refusing to write/);
  await refused('edit_file', { path: 'relative-secret', old_text: 'TOP', new_text: 'x' }, /symbolic link/);
  await refused(
    'apply_patch',
    { hunks: [{ path: 'out-link/secret.txt', old_text: 'TOP', new_text: 'x' }] },
    /hunks\[0\].*resolves outside/,
  );
  // A link pointing inside is refused too, with the real path to use instead.
  await refused(
    'write_file',
    { path: 'inner-link', content: 'x' },
    /symbolic link.*Write to `real\/file.txt` instead/,
  );
  assert.equal(await s.read('real/file.txt'), 'real\n');
});

test('14-15: dangling links cannot be used to create files or directories outside', async () => {
  await refused('write_file', { path: 'dangling-file', content: 'x' }, /symbolic link/);
  await refused(
    'write_file',
    { path: 'dangling-dir/x.txt', content: 'x' },
    /symbolic link whose target does not exist/,
  );
  await refused('write_file', { path: 'dangling-dir/deeper/x.txt', content: 'x' }, /symbolic link/);
});

test('16-17: NUL bytes and control characters in paths', async () => {
  await refused('read_file', { path: 'inside.txt\0../../etc/passwd' }, /NUL byte/);
  await refused('write_file', { path: 'x\0y', content: 'x' }, /NUL byte/);
  await refused('write_file', { path: 'evil\nname.txt', content: 'x' }, /control characters/);
});

test('18-19: extremely long paths and components', async () => {
  await refused('write_file', { path: 'a/'.repeat(3000), content: 'x' }, /longer than 4096 bytes/);
  await refused('write_file', { path: `${'n'.repeat(300)}.txt`, content: 'x' }, /longer than 255 bytes/);
  await refused('read_file', { path: `${'../'.repeat(1000)}etc/passwd` }, ESCAPE);
});

test('20: oversized writes and patches are refused before anything is written', async () => {
  await refused('write_file', { path: 'big.txt', content: 'x'.repeat(70 * 1024) }, /max_input_bytes/);
  await refused(
    'apply_patch',
    { hunks: [{ path: 'inside.txt', old_text: 'inside', new_text: 'y'.repeat(70 * 1024) }] },
    /max_input_bytes/,
  );
  assert.equal(await s.read('inside.txt'), 'inside\n');
});

test('21: a FIFO is refused at once (no hang) for reading and writing, and skipped by searches', async () => {
  const started = Date.now();
  await refused('read_file', { path: 'fifo' }, /is a FIFO; only regular files can be read/);
  await refused('write_file', { path: 'fifo', content: 'x' }, /not a regular file/);
  await refused('edit_file', { path: 'fifo', old_text: 'a', new_text: 'b' }, /not a regular file|FIFO/);
  assert.ok(Date.now() - started < 3000);
  const r = await s.ok('grep_search', { pattern: 'x', base: '.' });
  assert.ok(r.matches.every((m: { path: string }) => m.path !== 'fifo'));
});

test('22: a device node inside the workspace is refused', async (t) => {
  try {
    execFileSync('mknod', [`${s.ws}/zero`, 'c', '1', '5'], { stdio: 'ignore' });
  } catch {
    t.skip('mknod needs privileges this machine does not grant');
    return;
  }
  await refused('read_file', { path: 'zero' }, /device file/);
  await refused('write_file', { path: 'zero', content: 'x' }, /device file|not a regular file/);
});

test('23: Windows-style separators', async () => {
  await refused('read_file', { path: '..\\outside\\secret.txt' }, /backslash/);
  await refused('write_file', { path: 'sub\\..\\..\\x.txt', content: 'x' }, /backslash/);
});

test('24: URL-encoded and double-encoded traversal', async () => {
  await refused('read_file', { path: '%2e%2e/outside/secret.txt' }, /URL-encoded/);
  await refused('write_file', { path: '%2E%2E%2Foutside%2Fsecret.txt', content: 'x' }, /URL-encoded/);
  await refused('read_file', { path: '%252e%252e/outside/secret.txt' }, /URL-encoded/);
  await refused('read_file', { path: '..%2f..%2foutside' }, /URL-encoded/);
});

test('25: Unicode look-alikes of dots and slashes, and invisible characters', async () => {
  await refused('read_file', { path: '\u2025/outside/secret.txt' }, /look like/);
  await refused('read_file', { path: '\uff0e\uff0e\uff0foutside\uff0fsecret.txt' }, /look like/);
  await refused(
    'write_file',
    { path: '..\u2215outside\u2215secret.txt', content: 'x' },
    /looks like a slash/,
  );
  await refused('write_file', { path: 'inside\u202e.txt', content: 'x' }, /invisible or bidirectional/);
  await refused('read_file', { path: '~/.ssh/id_rsa' }, /`~` is not expanded/);
});

test('26: hostile glob patterns cannot widen a search beyond its base', async () => {
  await refused('glob_search', { pattern: '../**' }, /must not contain `\.\.`/);
  await refused('grep_search', { pattern: 'SECRET', glob: '../outside/*' }, /must not contain `\.\.`/);
  await refused('glob_search', { pattern: '..\\*' }, /backslash/);
  const all = await s.ok('glob_search', { pattern: '**/*' });
  assert.ok(all.paths.every((p: string) => !p.startsWith('out-link') && !p.startsWith('a/b')));
  const grep = await s.ok('grep_search', { pattern: 'SECRET' });
  assert.deepEqual(grep.matches, []);
});

test('27: an all-or-nothing patch with one escaping hunk changes nothing inside either', async () => {
  const before = await snapshot(s.ws);
  await refused(
    'apply_patch',
    {
      hunks: [
        { path: 'inside.txt', old_text: 'inside', new_text: 'changed' },
        { path: '../outside/secret.txt', old_text: 'TOP', new_text: 'x' },
      ],
    },
    /hunks\[1\].*escapes/,
  );
  assert.equal(await snapshot(s.ws), before);
});

/** Swaps `ws/swap` between a real directory and a link to the outside as fast as it can. */
function startSwapper(ws: string, outside: string, ms: number) {
  const code = `
    const fs = require('node:fs');
    const [ws, outside, ms] = process.argv.slice(1);
    const end = Date.now() + Number(ms);
    while (Date.now() < end) {
      try { fs.renameSync(ws + '/swap', ws + '/swap-real'); fs.symlinkSync(outside, ws + '/swap'); } catch {}
      try { fs.unlinkSync(ws + '/swap'); fs.renameSync(ws + '/swap-real', ws + '/swap'); } catch {}
    }
    try { fs.unlinkSync(ws + '/swap'); } catch {}
    try { fs.renameSync(ws + '/swap-real', ws + '/swap'); } catch {}`;
  const child = spawn(process.execPath, ['-e', code, ws, outside, String(ms)], { stdio: 'ignore' });
  return new Promise<void>((resolve) => child.on('exit', () => resolve()));
}

test('28: a symlink swapped in between check and use never leads a read or a write outside', async () => {
  await s.put('swap/secret.txt', 'inside copy\n');
  const swapping = startSwapper(s.ws, s.outside, 1500);
  let reads = 0;
  let writes = 0;
  const deadline = Date.now() + 1400;
  while (Date.now() < deadline) {
    const [r, w] = await Promise.all([
      s.call('read_file', { path: 'swap/secret.txt' }),
      s.call('write_file', { path: 'swap/written.txt', content: 'x' }),
    ]);
    assert.ok(!r.content.includes('TOP SECRET'), 'a read never returns the outside file');
    if (!r.is_error) reads++;
    if (!w.is_error) writes++;
    for (const res of [r, w]) if (res.is_error) assert.doesNotMatch(res.content, /failed unexpectedly/);
  }
  await swapping;
  assert.equal(await snapshot(s.outside), outsideBefore, 'nothing was written outside during the race');
  assert.ok(reads + writes > 0, 'some calls went through while the tree was stable');
});

test('29: symbolic link loops and links into /proc are refused, not followed', async () => {
  await symlink('loop-b', `${s.ws}/loop-a`);
  await symlink('loop-a', `${s.ws}/loop-b`);
  await symlink('/proc/self/root', `${s.ws}/proc-root`);
  await refused('read_file', { path: 'loop-a' }, /symbolic link loop/);
  await refused('write_file', { path: 'loop-a/x.txt', content: 'x' }, /symbolic link loop/);
  await refused('read_file', { path: 'proc-root/etc/passwd' }, /resolves outside the workspace/);
  await refused('list_files', { base: 'proc-root' }, /resolves outside the workspace/);
});
