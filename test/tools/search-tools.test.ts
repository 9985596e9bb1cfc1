import assert from 'node:assert/strict';
import { symlink } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { mkfifo } from './fifo.ts';
import { closeSearchWorkers, type Sandbox, sandbox } from './helpers.ts';

let s: Sandbox;
before(async () => {
  s = await sandbox();
  await s.put('README.md', '# Title\nhello world\n');
  await s.put('src/main.ts', 'export function main() {\n  return helper();\n}\n');
  await s.put('src/lib/helper.ts', 'export function helper() {\n  return 42; // TODO tidy\n}\n');
  await s.put('src/lib/data.json', '{"hello": "json"}\n');
  await s.put('.git/config', '[core]\nhello = git\n');
  await s.put('node_modules/dep/index.js', 'module.exports = "hello";\n');
  await s.put('bin/blob.bin', Buffer.from([104, 101, 108, 108, 111, 0, 1, 2]));
  await symlink(s.outside, `${s.ws}/escape-link`);
  await s.put('../outside/secret.txt', 'hello from outside\n');
});
after(async () => {
  await closeSearchWorkers();
  await s.cleanup();
});

test('list_files lists files depth-first by name, skipping .git, node_modules and symlinks', async () => {
  const r = await s.ok('list_files', {});
  assert.deepEqual(r, {
    base: '.',
    paths: ['README.md', 'bin/blob.bin', 'src/main.ts', 'src/lib/data.json', 'src/lib/helper.ts'],
    truncated: false,
  });
  const sub = await s.ok('list_files', { base: 'src' });
  assert.deepEqual(sub.paths, ['src/main.ts', 'src/lib/data.json', 'src/lib/helper.ts']);
  assert.equal(sub.base, 'src');
  const withIgnored = await s.ok('list_files', { include_ignored: true });
  assert.ok(withIgnored.paths.includes('.git/config'));
  assert.ok(withIgnored.paths.includes('node_modules/dep/index.js'));
  const shallow = await s.ok('list_files', { depth: 1 });
  assert.deepEqual(shallow.paths, ['README.md']);
  // `path` is accepted as a synonym of `base`.
  assert.deepEqual((await s.ok('list_files', { path: 'src/lib' })).paths, [
    'src/lib/data.json',
    'src/lib/helper.ts',
  ]);
});

test('list_files marks a limited result and says how to see more', async () => {
  const r = await s.ok('list_files', { limit: 2 });
  assert.deepEqual(r.paths, ['README.md', 'bin/blob.bin']);
  assert.equal(r.truncated, true);
  assert.match(r.notice, /first 2 paths; more exist.*raise `limit`/);
  assert.match(await s.err('list_files', { base: 'README.md' }), /is a file, not a directory; use read_file/);
  assert.match(await s.err('list_files', { base: 'nope' }), /does not exist/);
  assert.match(await s.err('list_files', { limit: 0 }), /limit.*at least 1/);
});

test('glob_search: name patterns match at any depth, path patterns relative to base', async () => {
  assert.deepEqual((await s.ok('glob_search', { pattern: '*.ts' })).paths, [
    'src/main.ts',
    'src/lib/helper.ts',
  ]);
  assert.deepEqual((await s.ok('glob_search', { pattern: 'src/lib/*' })).paths, [
    'src/lib/data.json',
    'src/lib/helper.ts',
  ]);
  assert.deepEqual((await s.ok('glob_search', { pattern: '**/*.{json,md}' })).paths, [
    'README.md',
    'src/lib/data.json',
  ]);
  const based = await s.ok('glob_search', { pattern: 'lib/*.ts', base: 'src' });
  assert.deepEqual(based, {
    base: 'src',
    pattern: 'lib/*.ts',
    paths: ['src/lib/helper.ts'],
    truncated: false,
  });
  assert.deepEqual((await s.ok('glob_search', { pattern: '*.js' })).paths, []);
  assert.deepEqual((await s.ok('glob_search', { pattern: '*.js', include_ignored: true })).paths, [
    'node_modules/dep/index.js',
  ]);
  assert.match(await s.err('glob_search', { pattern: '../*' }), /must not contain `\.\.`/);
  assert.match(await s.err('glob_search', { pattern: '' }), /must not be empty/);
});

test('grep_search finds lines by regex with path and 1-based line numbers', async () => {
  const r = await s.ok('grep_search', { pattern: 'hel+(o|per)' });
  assert.deepEqual(r.matches, [
    { path: 'README.md', line: 2, text: 'hello world' },
    { path: 'src/main.ts', line: 2, text: '  return helper();' },
    { path: 'src/lib/data.json', line: 1, text: '{"hello": "json"}' },
    { path: 'src/lib/helper.ts', line: 1, text: 'export function helper() {' },
  ]);
  assert.equal(r.base, '.');
  assert.equal(r.pattern, 'hel+(o|per)');
  assert.equal(r.truncated, false);
  assert.deepEqual(r.files_skipped, { binary: 1, too_large: 0 });
});

test('grep_search options: glob filter, case-insensitivity, single-file base, limit', async () => {
  const ts = await s.ok('grep_search', { pattern: 'return', glob: '*.ts' });
  assert.deepEqual(
    ts.matches.map((m: { path: string }) => m.path),
    ['src/main.ts', 'src/lib/helper.ts'],
  );
  assert.equal((await s.ok('grep_search', { pattern: 'TITLE' })).matches.length, 0);
  assert.equal((await s.ok('grep_search', { pattern: 'TITLE', case_insensitive: true })).matches.length, 1);
  assert.equal((await s.ok('grep_search', { pattern: '(?i)title' })).matches.length, 1);
  const one = await s.ok('grep_search', { pattern: 'TODO', base: 'src/lib/helper.ts' });
  assert.deepEqual(one.matches, [{ path: 'src/lib/helper.ts', line: 2, text: '  return 42; // TODO tidy' }]);
  const limited = await s.ok('grep_search', { pattern: 'e', limit: 2 });
  assert.equal(limited.matches.length, 2);
  assert.equal(limited.truncated, true);
  assert.match(limited.notice, /first 2 matches; more exist/);
  assert.match(await s.err('grep_search', { pattern: '(' }), /not a valid regular expression/);
});

test('grep_search shortens very long lines around the match', async () => {
  await s.put('min/long.js', `${'a'.repeat(5000)}NEEDLE${'b'.repeat(5000)}\n`);
  const r = await s.ok('grep_search', { pattern: 'NEEDLE', base: 'min' });
  const text: string = r.matches[0].text;
  assert.ok(text.includes('NEEDLE'));
  assert.ok(text.length <= 502);
  assert.ok(text.startsWith('…') && text.endsWith('…'));
});

test('grep_search caps output bytes and says so', async () => {
  const small = await sandbox({ max_output_bytes: 6000 });
  try {
    await small.put('many.txt', Array.from({ length: 500 }, (_, i) => `match line ${i}`).join('\n'));
    const r = await small.ok('grep_search', { pattern: 'match', limit: 2000 });
    assert.equal(r.truncated, true);
    assert.match(r.notice, /output capped at about 6000 bytes/);
    assert.ok(r.matches.length > 10 && r.matches.length < 500);
  } finally {
    await small.cleanup();
  }
});

test('a catastrophic regex is stopped by the timeout and the tool answers with an error', async () => {
  const slow = await sandbox({ max_timeout_ms: 300 });
  try {
    await slow.put('redos.txt', `${'a'.repeat(40)}!\n`);
    const started = Date.now();
    const msg = await slow.err('grep_search', { pattern: '^(a+)+$' });
    assert.match(msg, /did not finish within \d+ ms.*too expensive/);
    assert.ok(Date.now() - started < 10_000);
    // The pool recovers: the next search works.
    assert.equal((await slow.ok('grep_search', { pattern: 'a!' })).matches.length, 1);
  } finally {
    await slow.cleanup();
  }
});

test('cancelling the run aborts a search in progress', async () => {
  await s.put('redos2.txt', `${'a'.repeat(40)}!\n`);
  const ac = new AbortController();
  const pending = s.call('grep_search', { pattern: '^(a+)+$', base: 'redos2.txt' }, { signal: ac.signal });
  setTimeout(() => ac.abort(new Error('run cancelled')), 100);
  await assert.rejects(pending, /run cancelled/);
});

test('search tools skip FIFOs without blocking', async () => {
  await mkfifo(`${s.ws}/src/pipe`);
  const r = await s.ok('grep_search', { pattern: 'helper', base: 'src' });
  assert.equal(r.matches.length, 2);
  assert.ok(!(await s.ok('list_files', { base: 'src' })).paths.includes('src/pipe'));
});
