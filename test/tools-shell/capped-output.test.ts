import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CappedOutput, utf8SafeEnd, utf8SafeStart } from '../../src/tools/shell/capped-output.ts';

test('capped output: under the cap everything is kept, in order, across chunks', () => {
  const c = new CappedOutput(10);
  for (const part of ['ab', 'cde', 'fghij']) c.push(Buffer.from(part));
  assert.deepEqual(c.result('stdout'), { text: 'abcdefghij', truncated: false, total_bytes: 10 });
});

test('capped output: over the cap the head and the tail are kept around an explicit marker', () => {
  const c = new CappedOutput(10);
  c.push(Buffer.from('HEAD-'));
  for (let i = 0; i < 1000; i++) c.push(Buffer.from('middle'));
  c.push(Buffer.from('-TAIL'));
  const r = c.result('stderr');
  assert.equal(r.truncated, true);
  assert.equal(r.total_bytes, 6010);
  assert.equal(
    r.text,
    'HEAD-\n[... 6000 bytes of stderr omitted: output exceeded the 10-byte cap; showing the first 5 and the last 5 bytes ...]\n-TAIL',
  );
});

test('capped output: cuts never split a UTF-8 character', () => {
  const c = new CappedOutput(8);
  c.push(Buffer.from('ééééé€€€€€'));
  const r = c.result('stdout');
  assert.ok(!r.text.includes('\ufffd'), r.text);
  assert.match(r.text, /^éé\n\[\.\.\./);
  assert.match(r.text, /\]\n€$/);
  const euro = Buffer.from('a€');
  assert.equal(utf8SafeEnd(euro.subarray(0, 3)), 1);
  assert.equal(utf8SafeEnd(euro), 4);
  assert.equal(utf8SafeStart(euro.subarray(2)), 2);
});
