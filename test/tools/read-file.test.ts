import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { type Sandbox, sandbox } from './helpers.ts';

let s: Sandbox;
before(async () => {
  s = await sandbox();
});
after(() => s.cleanup());

const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');

test('read_file returns the whole file exactly, with the spec fields and the whole-file sha256', async () => {
  const text = 'alpha\r\nbeta\n\tgamma\n';
  await s.put('f.txt', text);
  const r = await s.ok('read_file', { path: 'f.txt' });
  assert.equal(r.path, 'f.txt');
  assert.equal(r.content, text);
  assert.equal(r.start_line, 1);
  assert.equal(r.line_count, 3);
  assert.equal(r.bytes_read, Buffer.byteLength(text));
  assert.equal(r.sha256, sha(text));
  assert.equal(r.encoding, 'utf-8');
  assert.equal(r.binary, false);
  assert.equal(r.truncated, false);
  assert.equal(r.total_lines, 3);
  assert.equal(r.content_base64, undefined);
  assert.equal(r.next_start_line, undefined);
});

test('read_file slices by start_line / line_count and says where to continue', async () => {
  await s.put('lines.txt', Array.from({ length: 10 }, (_, i) => `line ${i + 1}`).join('\n'));
  const r = await s.ok('read_file', { path: 'lines.txt', start_line: 3, line_count: 2 });
  assert.equal(r.content, 'line 3\nline 4\n');
  assert.equal(r.line_count, 2);
  assert.equal(r.next_start_line, 5);
  const last = await s.ok('read_file', { path: 'lines.txt', start_line: 9 });
  assert.equal(last.content, 'line 9\nline 10');
  assert.equal(last.line_count, 2);
  assert.equal(last.next_start_line, undefined);
  const past = await s.ok('read_file', { path: 'lines.txt', start_line: 50 });
  assert.equal(past.content, '');
  assert.equal(past.line_count, 0);
  assert.match(past.notice, /past the end of the file \(it has 10 lines\)/);
  // The sha256 is always of the whole file, not of the slice.
  assert.equal(r.sha256, last.sha256);
});

test('read_file accepts numeric strings and absolute paths inside the workspace', async () => {
  await s.put('abs.txt', 'a\nb\n');
  const r = await s.ok('read_file', { path: `${s.ws}/abs.txt`, start_line: '2' });
  assert.equal(r.content, 'b\n');
  assert.equal(r.path, 'abs.txt');
});

test('read_file reports binary files without content, and base64 on request', async () => {
  const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255]);
  await s.put('img.png', bytes);
  const r = await s.ok('read_file', { path: 'img.png' });
  assert.equal(r.binary, true);
  assert.equal(r.encoding, 'binary');
  assert.equal(r.content, '');
  assert.equal(r.sha256, sha(bytes));
  const b = await s.ok('read_file', { path: 'img.png', include_base64: true });
  assert.equal(Buffer.from(b.content_base64, 'base64').compare(bytes), 0);
  const t = await s.ok('read_file', { path: 'lines.txt', line_count: 1, include_base64: true });
  assert.equal(Buffer.from(t.content_base64, 'base64').toString(), 'line 1\n');
});

test('read_file truncates at the byte cap on a line boundary, with a marker and next_start_line', async () => {
  const small = await sandbox(undefined, { max_read_bytes: 100 });
  try {
    const lines = Array.from({ length: 50 }, (_, i) => `row ${String(i + 1).padStart(3, '0')}`); // 7 bytes + \n
    await small.put('big.txt', lines.join('\n'));
    const r = await small.ok('read_file', { path: 'big.txt' });
    assert.equal(r.truncated, true);
    assert.equal(r.content, `${lines.slice(0, 12).join('\n')}\n`);
    assert.equal(r.next_start_line, 13);
    assert.match(r.notice, /truncated at 100 bytes; call read_file again with start_line=13/);
    const next = await small.ok('read_file', { path: 'big.txt', start_line: r.next_start_line });
    assert.ok(next.content.startsWith('row 013\n'));
    // One line longer than the cap: its start is shown, cut on a character boundary.
    await small.put('long.txt', 'é'.repeat(120));
    const long = await small.ok('read_file', { path: 'long.txt' });
    assert.equal(long.truncated, true);
    assert.equal(long.content, 'é'.repeat(50));
    assert.match(long.notice, /longer than 100 bytes/);
  } finally {
    await small.cleanup();
  }
});

test('read_file errors are actionable: missing file, directory, bad arguments', async () => {
  assert.match(await s.err('read_file', { path: 'nope.txt' }), /`nope.txt` does not exist.*list_files/);
  await s.put('dir/inner.txt', 'x');
  assert.match(await s.err('read_file', { path: 'dir' }), /is a directory; use list_files/);
  assert.match(await s.err('read_file', { path: '.' }), /workspace root, a directory/);
  assert.match(await s.err('read_file', {}), /missing required string field `path`/);
  assert.match(await s.err('read_file', { path: 'lines.txt', start_line: 0 }), /start_line.*at least 1/);
  assert.match(await s.err('read_file', { path: 'lines.txt', line_count: 1.5 }), /line_count.*integer/);
  assert.match(await s.err('read_file', { path: 42 }), /`path` must be a string/);
});

test('read_file follows a symbolic link that stays inside the workspace', async () => {
  const { symlink } = await import('node:fs/promises');
  await s.put('real/target.txt', 'inside');
  await symlink('real/target.txt', `${s.ws}/alias.txt`);
  await symlink('real', `${s.ws}/realdir`);
  assert.equal((await s.ok('read_file', { path: 'alias.txt' })).content, 'inside');
  assert.equal((await s.ok('read_file', { path: 'realdir/target.txt' })).content, 'inside');
});

test('read_file refuses when no workspace root is configured', async () => {
  const r = await s.call('read_file', { path: 'f.txt' }, { root: null });
  assert.equal(r.is_error, true);
  assert.match(r.content, /no workspace root.*--workspace-root/);
});
