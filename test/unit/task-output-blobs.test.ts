// Background task output kept in the database (PostgreSQL replicas, migration 0014): the same
// retained-output semantics as the rotating file — past the cap the newest half is kept behind the
// one-line marker, never starting inside a UTF-8 character, with exact total and discarded counts —
// and the writer's buffering: everything appended is readable once flushed(), also when more than
// the cap waited in memory. Always on PostgreSQL (a fresh schema), whatever KHEISH_TEST_STORE says.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { appendToBlob, DatabaseLog, readBlobOutput } from '../../src/features/tasks/database-log.ts';
import { Store } from '../../src/store/store.ts';
import { rotationMarker } from '../../src/tools/shell/rotating-log.ts';
import { tempDir } from '../helpers/daemon.ts';
import { type FreshSchema, freshSchema } from '../helpers/pg-schema.ts';

let schema: FreshSchema;
let store: Store;
let dir: string;

before(async () => {
  schema = await freshSchema();
  dir = tempDir('kheish-blobs-');
  store = await Store.open({ stateRoot: dir, databaseUrl: schema.url, poolSize: 3 });
});

after(async () => {
  await store?.close();
  await schema?.drop();
  rmSync(dir, { recursive: true, force: true });
});

const append = (id: string, block: string | Buffer, end: number, cap: number) =>
  store.write((tx) => appendToBlob(tx.db, id, Buffer.from(block), end, cap, tx.now));

test('below the cap the blob is the bytes as written, in order, across chunks that grow', async () => {
  let end = 0;
  let all = '';
  for (let i = 0; i < 50; i++) {
    const line = `line ${i}\n`;
    end += line.length;
    all += line;
    await append('plain', line, end, 1 << 20);
  }
  const read = await readBlobOutput(store.db, 'plain', 8, true);
  assert.deepEqual(read.state, {
    size_bytes: all.length,
    total_bytes: all.length,
    rotation_count: 0,
    rotated: false,
  });
  assert.equal(read.full!.toString(), all);
  assert.equal(read.tail.toString(), 'line 49\n');
  const none = await readBlobOutput(store.db, 'never-written', 10, true);
  assert.equal(none.state.size_bytes, 0);
  assert.equal(none.full!.length, 0);
});

test('past the cap the newest half is kept behind the marker; counts stay exact; reads cross chunk edges', async () => {
  const cap = 4096;
  // 70 KiB in one block spans two chunks (64 KiB each at most): the cut falls inside the second.
  const big = Buffer.alloc(70 * 1024, 'a');
  big.write('THE-END\n', big.length - 8);
  const state = await append('rotated', big, big.length, cap);
  assert.equal(state.rotation_count, 1);
  assert.equal(state.total_bytes, big.length);
  const marker = rotationMarker(1, big.length - cap / 2);
  assert.equal(state.size_bytes, marker.length + cap / 2);
  const read = await readBlobOutput(store.db, 'rotated', 100, true);
  assert.deepEqual(read.state, state);
  assert.equal(read.full!.toString(), marker + big.subarray(big.length - cap / 2).toString());
  assert.ok(read.tail.toString().endsWith('THE-END\n'));
  // A tail longer than the body after the marker starts inside the marker, as the file would.
  const long = await readBlobOutput(store.db, 'rotated', state.size_bytes, false);
  assert.equal(long.tail.toString(), read.full!.toString());
  assert.equal(long.full, null);
  // The next append past the cap rotates again; the marker counts both rotations.
  const more = Buffer.alloc(3000, 'b');
  const again = await append('rotated', more, big.length + more.length, cap);
  assert.equal(again.rotation_count, 2);
  assert.equal(again.total_bytes, big.length + more.length);
  const full = (await readBlobOutput(store.db, 'rotated', 0, true)).full!.toString();
  assert.equal(full, rotationMarker(2, big.length + more.length - cap / 2) + 'b'.repeat(cap / 2));
});

test('the kept window never starts inside a UTF-8 character', async () => {
  const cap = 2048;
  // 'é' is two bytes; an odd filler puts the cut on the second byte of one of them.
  const text = `x${'é'.repeat(3000)}`;
  const bytes = Buffer.from(text);
  const state = await append('utf8', bytes, bytes.length, cap);
  const read = await readBlobOutput(store.db, 'utf8', 0, true);
  const body = read.full!.toString().split('\n').slice(1).join('\n');
  assert.ok(/^é+$/.test(body), 'the body is whole characters only');
  assert.equal(state.total_bytes, bytes.length);
  assert.equal(read.state.size_bytes, read.full!.length);
});

test('the writer buffers, flushes through the store, and keeps only the newest cap when the database lags', async () => {
  const warnings: string[] = [];
  const log = new DatabaseLog(store, 'writer', 1024, (_o, m) => warnings.push(m));
  let total = 0;
  for (let i = 0; i < 500; i++) {
    const line = Buffer.from(`${String(i).padStart(4, '0')} ${'z'.repeat(20)}\n`);
    total += line.length;
    log.append(line);
  }
  log.close();
  await log.flushed();
  const read = await readBlobOutput(store.db, 'writer', 26, true);
  assert.equal(read.state.total_bytes, total, 'every byte is counted, written or dropped');
  assert.ok(read.state.rotated);
  assert.ok(read.state.size_bytes <= 1024 + 128, `retained ${read.state.size_bytes}`);
  assert.equal(read.tail.toString(), `0499 ${'z'.repeat(20)}\n`);
  assert.deepEqual(log.state(), read.state, "the writer's view is the database's after the flush");
  assert.deepEqual(warnings, []);
});
