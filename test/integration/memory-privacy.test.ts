// Privacy of recovered run memory (concepts §4.9): an e-mail address, a phone number and an API key
// in run inputs (and in the model's answer) never reach memory. Looked for in every table of the
// store — only the canonical run state (runs, journal, events) may hold the raw input, which memory
// redaction does not rewrite by design — in the full-text index, in every memory endpoint and in the
// recovered_memory section a later prompt carries.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FixtureServer } from '../fixtures/providers/harness.ts';
import { http, type TestDaemon } from '../helpers/daemon.ts';
import { promptOf } from '../helpers/memory-prompt.ts';
import { startOpenAiRouteDaemon } from '../helpers/openai-route.ts';
import { queryState } from '../helpers/state-query.ts';

const EMAIL = 'jane.roe@contoso-mail.com';
const PHONE = '+1 (415) 555-0199';
const PHONE_DIGITS = '5550199';
const API_KEY = 'sk-proj-Zx81kQ2vLm39PaRw7TgY';
const SEEDS = [EMAIL, 'jane.roe', API_KEY, 'Zx81kQ2vLm39PaRw7TgY', PHONE, '555-0199'];

/** Tables where the raw input legitimately lives (the canonical run state and its event feeds). */
const CANONICAL = new Set(['runs', 'journal', 'events', 'run_events', 'outputs', 'checkpoints', 'blobs']);

let openai: FixtureServer;
let d: TestDaemon;
let stop: (() => Promise<void>) | undefined;
before(async () => {
  ({ daemon: d, openai, stop } = await startOpenAiRouteDaemon('kheish-memory-privacy-'));
});
after(() => stop?.());

const leaks = (text: string) =>
  SEEDS.filter((s) => text.includes(s)).concat(text.includes(PHONE_DIGITS) ? ['phone digits'] : []);

test('an e-mail, a phone number and an API key in run inputs never appear in recovered memory', async () => {
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'private' });
  await promptOf(
    d,
    openai,
    'private',
    `Send the contract to ${EMAIL} and call ${PHONE} when done`,
    `Mailed ${EMAIL}`,
  );
  await promptOf(d, openai, 'private', `Deploy with OPENAI key ${API_KEY} to production`, 'Deployed.');
  const later = await promptOf(d, openai, 'private', 'What about the contract and the deploy?');
  const section = later.system.slice(later.system.indexOf('# recovered_memory'));
  assert.match(section, /\[redacted:email\]/);
  assert.match(section, /\[redacted:phone\]/);
  assert.match(section, /\[redacted\]/);
  assert.deepEqual(leaks(section), [], 'the prompt section');

  // Every memory endpoint.
  for (const path of [
    '/v1/sessions/private/memory-context',
    '/v1/sessions/private/memory-context?query=contract',
    '/v1/sessions/private/memory-search',
    '/v1/sessions/private/memory-search?query=contract%20deploy%20jane%20roe',
    '/v1/status',
  ]) {
    const res = await http(d.url, 'GET', path);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(leaks(res.text), [], path);
  }
  const search = await http(d.url, 'GET', '/v1/sessions/private/memory-search?query=jane%20roe%20contoso');
  assert.equal(search.body.results.length, 0, 'redacted words are not searchable either');

  // Every table of the store: only canonical run state may hold the raw input.
  const sqlite = !d.databaseUrl;
  const tables: string[] = sqlite
    ? (await queryState(d, "select name from sqlite_master where type = 'table'")).map((r) => r.name)
    : (
        await queryState(
          d,
          'select table_name as name from information_schema.tables where table_schema = current_schema()',
        )
      ).map((r) => r.name);
  assert.ok(tables.includes('run_memories'));
  const holding: string[] = [];
  for (const t of tables) {
    const rows = await queryState(d, `select * from "${t}"`);
    const text = rows
      .map((r) =>
        Object.values(r)
          .map((v) => (Buffer.isBuffer(v) ? v.toString('latin1') : String(v)))
          .join('\u0000'),
      )
      .join('\n');
    if (leaks(text).length) holding.push(t);
  }
  const outside = holding.filter((t) => !CANONICAL.has(t));
  assert.deepEqual(outside, [], `raw personal data outside the canonical run state: ${outside.join(', ')}`);
  assert.ok(holding.includes('runs') || holding.includes('journal'), 'the seeds were really submitted');

  if (sqlite) {
    // The full-text index's own pages: words of the redacted text only.
    const hits = await queryState(
      d,
      "select rowid from run_memories_fts where run_memories_fts match 'jane OR contoso OR zx81kq2vlm39parw7tgy'",
    );
    assert.equal(hits.length, 0);
    // Beyond the database: no other file of the state root holds them (WAL and the db hold the journal).
    for (const f of readdirSync(d.stateRoot, { recursive: true, withFileTypes: true })) {
      if (!f.isFile() || /kheish\.sqlite(-wal|-shm)?$/.test(f.name)) continue;
      const bytes = readFileSync(join(f.parentPath, f.name)).toString('latin1');
      assert.deepEqual(leaks(bytes), [], join(f.parentPath, f.name));
    }
  }
});
