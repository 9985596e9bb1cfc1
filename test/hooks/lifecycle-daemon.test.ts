// Hook points around the daemon's own lifecycle: pre_compact (a block keeps the context as it is)
// and post_compact around context compaction, setup at start (a block becomes a health warning),
// and a legacy flat `{"hooks": …}` runtime value: read, in force, and written back as the
// versioned envelope at the next set.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { jsonColumn, queryState } from '../helpers/state-query.ts';
import { commandHook, script, setHooks } from './hook-scripts.ts';

const dir = tempDir('kheish-hook-life-');
writeFileSync(
  join(dir, 'script.json'),
  JSON.stringify({
    rules: [{ match: 'chatty', turns: [{ text: 'x'.repeat(400) }] }],
    default: { turns: [{ text: 'ok' }] },
  }),
);
const routesToml = `version = 1\ndefault_route = "small"\n\n[routes.small]\ndriver = "scripted"\ndefault_model = "scripted"\nscript_file = "${join(dir, 'script.json')}"\ncontext_window_tokens = 300\n`;

async function chat(d: TestDaemon, session: string, times: number) {
  await http(d.url, 'POST', '/v1/sessions', { session_id: session });
  const runs: string[] = [];
  for (let i = 0; i < times; i++) {
    const r = (await http(d.url, 'POST', `/v1/sessions/${session}/runs`, { content: 'chatty' })).body;
    assert.equal((await waitForRun(d.url, r.run_id)).status, 'completed');
    runs.push(r.run_id);
  }
  return runs;
}

async function traceKinds(d: TestDaemon, runIds: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const id of runIds) {
    const events = (await http(d.url, 'GET', `/v1/runs/${id}/events`)).body;
    for (const e of events.items ?? events) if (e.event?.type === 'trace') out.push(e.event.trace.kind);
  }
  return out;
}

test('hooks: a blocking pre_compact hook keeps the context; without a block, compaction runs and post_compact follows', async () => {
  const d = await startDaemon({ routesToml });
  try {
    const log = join(dir, 'compact.log');
    const block = script(
      dir,
      'no-compact.sh',
      `echo pre >> ${log}; echo '{"decision":"block","stop_reason":"keep it all"}'`,
    );
    await setHooks(d.url, { pre_compact: [commandHook('keep-all', block)] });
    const blocked = await chat(d, 'long-1', 4);
    assert.ok(readFileSync(log, 'utf8').includes('pre'), 'pre_compact was asked');
    assert.ok(!(await traceKinds(d, blocked)).includes('context_compacted'));

    const note = script(
      dir,
      'note-compact.sh',
      `cat | sed -n 's/.*"event":"\\([a-z_]*\\)".*/\\1/p' >> ${log}; echo >> ${log}`,
    );
    await setHooks(d.url, {
      pre_compact: [commandHook('note-pre', note)],
      post_compact: [commandHook('note-post', note)],
    });
    const compacted = await chat(d, 'long-2', 4);
    assert.ok((await traceKinds(d, compacted)).includes('context_compacted'));
    const events = readFileSync(log, 'utf8');
    assert.match(events, /pre_compact/);
    assert.match(events, /post_compact/);
  } finally {
    await d.kill();
    await d.cleanup();
  }
});

test('hooks: a setup hook runs when the daemon starts; a block is a health warning, the daemon serves', async () => {
  const d = await startDaemon({});
  let again: TestDaemon | null = null;
  try {
    const marker = join(dir, 'setup.json');
    const setup = script(
      dir,
      'setup.sh',
      `cat > ${marker}; echo '{"continue_execution":false,"stop_reason":"maintenance window"}'`,
    );
    assert.equal((await setHooks(d.url, { setup: [commandHook('maint', setup)] })).status, 200);
    await d.stop();
    again = await d.restart();
    let status: any;
    for (let i = 0; i < 100; i++) {
      status = (await http(again.url, 'GET', '/v1/status')).body;
      if (status.health.warnings.some((w: any) => w.code === 'hook_setup_blocked')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(existsSync(marker));
    assert.equal(JSON.parse(readFileSync(marker, 'utf8')).event, 'setup');
    const warning = status.health.warnings.find((w: any) => w.code === 'hook_setup_blocked');
    assert.ok(warning, JSON.stringify(status.health));
    assert.match(warning.message, /maintenance window/);
    assert.equal(
      (await http(again.url, 'POST', '/v1/sessions', { session_id: 'still-serving' })).status,
      201,
    );
  } finally {
    await (again ?? d).kill();
    await (again ?? d).cleanup();
  }
});

/** Replaces the stored hooks value with the legacy flat form (daemon stopped). */
async function storeLegacyFlat(d: TestDaemon, flat: unknown): Promise<void> {
  const [row] = await queryState(d, 'select value from daemon_meta where key = ?', ['runtime_config']);
  const record = jsonColumn(row.value);
  record.settings.hooks = flat;
  const value = JSON.stringify(record);
  if (d.databaseUrl) {
    const client = new pg.Client({ connectionString: d.databaseUrl });
    await client.connect();
    try {
      await client.query(`update daemon_meta set value = $1 where key = 'runtime_config'`, [value]);
    } finally {
      await client.end();
    }
  } else {
    const db = new Database(join(d.stateRoot, 'kheish.sqlite'));
    try {
      db.prepare(`update daemon_meta set value = ? where key = 'runtime_config'`).run(value);
    } finally {
      db.close();
    }
  }
}

test('hooks: a legacy flat {"hooks": …} value is read and in force, and saved as the versioned envelope next time', async () => {
  const d = await startDaemon({});
  let again: TestDaemon | null = null;
  try {
    assert.equal((await setHooks(d.url, {})).status, 200);
    await d.stop();
    const fail = script(dir, 'legacy-guard.sh', 'exit 1');
    await storeLegacyFlat(d, {
      hooks: {
        session_start: [
          {
            name: 'legacy',
            executor: { type: 'command', command: fail },
            failure_policy: { mode: 'closed' },
          },
        ],
      },
    });
    again = await d.restart();
    const raw = (await http(again.url, 'GET', '/v1/runtime/hooks')).body;
    assert.equal(raw.schema_version, 1);
    assert.equal(raw.hooks.session_start[0].name, 'legacy');
    assert.equal(
      (await http(again.url, 'POST', '/v1/sessions', { session_id: 'legacy-1' })).status,
      409,
      'in force',
    );
    assert.equal((await http(again.url, 'POST', '/v1/runtime/hooks', { hooks: raw.hooks })).status, 200);
    const [row] = await queryState(again, 'select value from daemon_meta where key = ?', ['runtime_config']);
    assert.equal(jsonColumn(row.value).settings.hooks.schema_version, 1, 'the envelope is stored');
  } finally {
    await (again ?? d).kill();
    await (again ?? d).cleanup();
  }
});
