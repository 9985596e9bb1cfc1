// The journal tail (src/store/journal-tail.ts): seqs without max(seq) that survive rolled-back
// writers and shared groups, and the bounded context window kept in step with commits.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, test } from 'node:test';
import { tempDir } from '../helpers/daemon.ts';

// A small window so the cap is visible (read when the module loads).
process.env.KHEISH_CONTEXT_MAX_ENTRIES = '5';
const { Store } = await import('../../src/store/store.ts');
const { readWindow } = await import('../../src/store/repos/journal.ts');
type Store = Awaited<ReturnType<typeof Store.open>>;

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function openStore(dir = tempDir('kheish-journal-tail-')): Promise<{ store: Store; dir: string }> {
  dirs.push(dir);
  const store = await Store.open({ stateRoot: dir });
  await store.write(async (tx) => {
    await tx.db
      .insertInto('sessions')
      .values({ session_id: 's', agent_id: 'a', created_at_ms: tx.now, updated_at_ms: tx.now } as never)
      .execute();
  });
  return { store, dir };
}

const entry = (kind: string, text = kind) => ({ kind, payload: { text } });
const append = (store: Store, ...kinds: Array<{ kind: string; payload: Record<string, unknown> }>) =>
  store.write((tx) => store.journal.append(tx, 's', null, kinds));
const seqsOf = async (store: Store) =>
  (
    await store.db.selectFrom('journal').select('seq').where('session_id', '=', 's').orderBy('seq').execute()
  ).map((r) => Number(r.seq));

test('seqs continue across writes, shared groups and a rolled-back writer', async () => {
  const { store } = await openStore();
  await append(store, entry('input_received'), entry('assistant_message'));
  // Three writers queued together share one group; the middle one fails and rolls back alone.
  const results = await Promise.allSettled([
    append(store, entry('input_received')),
    store.write(async (tx) => {
      await store.journal.append(tx, 's', null, [entry('input_received')]);
      throw new Error('refused');
    }),
    append(store, entry('assistant_message')),
  ]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  );
  await append(store, entry('input_received'));
  assert.deepEqual(await seqsOf(store), [1, 2, 3, 4, 5]);
  assert.ok(store.groupStats.max_writers >= 3, 'the three writers shared a group');
  await store.close();
});

test('the window keeps the newest entries up to the cap and never starts with a tool result', async () => {
  const { store, dir } = await openStore();
  const window = await store.journal.window('s');
  assert.deepEqual(window, []);
  await append(
    store,
    entry('input_received'),
    entry('assistant_message'),
    entry('tool_result'),
    entry('tool_result'),
    entry('assistant_message'),
    entry('tool_result'),
    entry('assistant_message'),
  );
  const kept = await store.journal.window('s');
  // The newest five are seqs 3..7; 3 and 4 are tool results without their call, so 5..7 remain.
  assert.deepEqual(
    kept.map((e) => e.seq),
    [5, 6, 7],
  );
  await store.close();
  // Read back from the database by a new process: the same window.
  const again = await Store.open({ stateRoot: dir });
  assert.deepEqual(
    (await again.journal.window('s')).map((e) => e.seq),
    [5, 6, 7],
  );
  await again.close();
});

test('a compaction boundary replaces what it covers and always stays in the window', async () => {
  const { store } = await openStore();
  await store.journal.window('s');
  await append(
    store,
    ...Array.from({ length: 6 }, (_, i) => entry(i % 2 ? 'assistant_message' : 'input_received')),
  );
  await append(store, { kind: 'compaction_boundary', payload: { summary: 'so far', upto_seq: 4 } });
  await append(
    store,
    ...Array.from({ length: 5 }, (_, i) => entry(i % 2 ? 'assistant_message' : 'input_received')),
  );
  const live = (await store.journal.window('s')).map((e) => `${e.seq}:${e.kind}`);
  // Entries 5..12 are not covered: the newest five of them plus the boundary (seq 7).
  assert.deepEqual(live, [
    '7:compaction_boundary',
    '8:input_received',
    '9:assistant_message',
    '10:input_received',
    '11:assistant_message',
    '12:input_received',
  ]);
  const fromDb = (await readWindow(store.db, 's', 5)).map((e) => `${e.seq}:${e.kind}`);
  assert.deepEqual(fromDb, live);
  await store.close();
});
