// docs/security.md, followed as written: the page's `kheish-daemon audit …` lines run against a
// real daemon's state root (its paths and run id replaced), the start-up warning it quotes is the
// one the daemon logs, the fail-closed warning it shows is the one /v1/status reports, and the
// tampered report it shows is the verifier's wording.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { BIN, http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { fencedBlocks } from './markdown.ts';

const text = readFileSync(resolve(import.meta.dirname, '../../docs/security.md'), 'utf8');
const blocks = fencedBlocks('docs/security.md', text);
const commands = blocks
  .filter((b) => b.lang === 'sh')
  .flatMap((b) => b.body.split('\n'))
  .filter((l) => l.startsWith('kheish-daemon audit '));
const textBlocks = blocks.filter((b) => b.lang === 'text').map((b) => b.body);
const DOC_RUN = 'run-01jx2v3k9q8w7e6r5t4y3u2i1o';

let d: TestDaemon;
let runId: string;
const cwd = tempDir('kheish-security-doc-');

before(async () => {
  d = await startDaemon({ script: { default: { turns: [{ text: 'ok' }] } } });
  const session = (await http(d.url, 'POST', '/v1/sessions', {})).body.session_id;
  const res = await http(d.url, 'POST', `/v1/sessions/${session}/runs`, { content: 'hi' });
  runId = (await waitForRun(d.url, res.body.run_id)).run_id;
});
after(async () => {
  await d.kill();
  await d.cleanup();
});

/** One of the page's lines, run as a shell would (a trailing `> file` redirects stdout there). */
function run(line: string) {
  let l = line.replaceAll('/var/lib/kheish', d.stateRoot).replaceAll(DOC_RUN, runId);
  let redirect: string | null = null;
  const m = / > (\S+)$/.exec(l);
  if (m) {
    redirect = m[1]!;
    l = l.slice(0, m.index);
  }
  const words = l.split(/\s+/).slice(1);
  const r = spawnSync(BIN, words, {
    cwd,
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, KHEISH_DATABASE_URL: d.databaseUrl ?? '' },
  });
  if (redirect) writeFileSync(join(cwd, redirect), r.stdout);
  return r;
}

test('docs/security.md: the audit lines run as printed and verify the daemon ledger', () => {
  assert.equal(commands.length, 5, commands.join('\n'));
  for (const line of commands) {
    const r = run(line);
    assert.equal(r.status, 0, `${line}\n${r.stdout}${r.stderr}`);
    if (line.includes('public-key'))
      assert.match(readFileSync(join(cwd, 'audit.pub'), 'utf8'), /BEGIN PUBLIC KEY/);
    if (line.includes(' verify ')) assert.match(r.stdout, /^ok: \d+ record\(s\) in \d+ chain\(s\) verify/);
  }
});

test('docs/security.md: the start-up warning and the status warning are the daemon own words', async () => {
  const warning = textBlocks.find((b) => b.includes('inside the state root'))!;
  assert.ok(d.logs().includes(warning.trim()), 'the quoted warning is the logged one');
  const json = JSON.parse(
    blocks.find((b) => b.lang === 'json' && b.body.includes('external_audit_unavailable'))!.body,
  );
  const missing = join(tempDir('kheish-security-doc-key-'), 'audit.key');
  const bad = await startDaemon({ env: { KHEISH_EXTERNAL_ACTION_AUDIT_SIGNING_KEY_FILE: missing } });
  try {
    const status = (await http(bad.url, 'GET', '/v1/status')).body;
    const w = status.health.warnings.find((x: { code: string }) => x.code === json.code);
    assert.equal(w.severity, json.severity);
    assert.equal(w.action, json.action);
    assert.equal(w.message, json.message.replace('/etc/kheish/audit.key', missing));
    assert.equal((await http(bad.url, 'GET', '/readyz')).status, 503);
  } finally {
    await bad.kill();
    await bad.cleanup();
  }
});

test('docs/security.md: the tampered report is the verifier wording', {
  skip: Boolean(process.env.KHEISH_TEST_STORE === 'postgres'),
}, () => {
  const shown = textBlocks.find((b) => b.startsWith('TAMPERED'))!;
  const db = new Database(join(d.stateRoot, 'kheish.sqlite'));
  try {
    const row = db.prepare('select record from external_actions where run_id = ? and seq = 1').get(runId) as {
      record: string;
    };
    db.prepare('update external_actions set record = ? where run_id = ? and seq = 1').run(
      row.record.replace('"outcome":"succeeded"', '"outcome":"succeedee"'),
      runId,
    );
  } finally {
    db.close();
  }
  const r = run(`kheish-daemon audit verify ${DOC_RUN} --state-root /var/lib/kheish --public-key audit.pub`);
  assert.equal(r.status, 1);
  const pattern = shown
    .trim()
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace('1 of 4', '1 of 1')
    .replace(/run-[0-9a-z]+/, runId)
    .replace('position 3', 'position 1')
    .replace('row seq 3', 'row seq 1')
    .replace(/action-[0-9a-z]+/, 'action-[0-9a-z]+');
  assert.match(r.stdout.trim(), new RegExp(`^${pattern}$`));
});
