// docs/hooks.md, followed as written: its guard script and settings are saved and set with the
// page's own `kheish-daemon runtime hooks …` lines; a run then has its `rm -rf` refused; the http
// example fails against a local server, is dead-lettered and resolved with the page's lines; the
// config_change freeze refuses a runtime change until `--skip-hooks`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { BIN, http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { journalPayloads } from '../helpers/state-query.ts';
import { fencedBlocks } from './markdown.ts';

const DOC = resolve(import.meta.dirname, '../../docs/hooks.md');
const text = readFileSync(DOC, 'utf8');
const blocks = fencedBlocks('docs/hooks.md', text);
const shLines = blocks.filter((b) => b.lang === 'sh').flatMap((b) => b.body.split('\n'));
const commands = shLines.filter((l) => l.startsWith('kheish-daemon '));
const settings = blocks.filter((b) => b.lang === 'json' && b.body.includes('"hooks"')).map((b) => b.body);
const guardScript = blocks.find((b) => b.lang === 'sh' && b.body.startsWith('#!/bin/sh'))!.body;

const line = (start: string): string => {
  const found = commands.find((c) => c.startsWith(start));
  assert.ok(found, `docs/hooks.md has a line starting with ${start}`);
  return found;
};

const cwd = tempDir('kheish-hooks-doc-');
const workspace = tempDir('kheish-hooks-doc-ws-');
let server: Server;
let port = 0;
let d: TestDaemon;

/** Runs one of the page's command lines against the test daemon (words split like a shell would). */
function cli(commandLine: string, replace: Record<string, string> = {}) {
  let l = commandLine;
  for (const [from, to] of Object.entries(replace)) l = l.replaceAll(from, to);
  const words = [...l.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!).slice(1);
  return spawnSync(BIN, ['--base-url', d.url, ...words], { cwd, encoding: 'utf8', timeout: 30_000 });
}

before(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  d = await startDaemon({
    script: {
      rules: [
        {
          match: 'clean',
          turns: [{ tool_calls: [{ name: 'bash', arguments: { command: 'rm -rf build' } }] }, { text: 'ok' }],
        },
        {
          match: 'look',
          turns: [{ tool_calls: [{ name: 'bash', arguments: { command: 'ls' } }] }, { text: 'ok' }],
        },
      ],
    },
    args: ['--workspace-root', workspace],
    env: { KHEISH_TEST_HOOK_ALLOW_TARGETS: `127.0.0.1:${port}` },
  });
  await http(d.url, 'POST', '/v1/runtime/permission-mode', { mode: 'bypassPermissions' });
});
after(async () => {
  await d.kill();
  await d.cleanup();
  server.close();
});

async function shell(session: string, content: string) {
  await http(d.url, 'POST', '/v1/sessions', { session_id: session });
  const run = (await http(d.url, 'POST', `/v1/sessions/${session}/runs`, { content })).body;
  const done = await waitForRun(d.url, run.run_id);
  return (await journalPayloads(d, done.run_id, 'tool_result'))[0];
}

test('docs/hooks.md: the guard-bash command hook refuses rm -rf and lets other commands run', async () => {
  const scriptPath = join(cwd, 'guard-bash.sh');
  writeFileSync(scriptPath, `${guardScript}\n`);
  chmodSync(scriptPath, 0o755);
  writeFileSync(
    join(cwd, 'hooks.json'),
    settings[0]!.replaceAll('/etc/kheish/hooks/guard-bash.sh', scriptPath),
  );
  const set = cli(line('kheish-daemon runtime hooks set --file'));
  assert.equal(set.status, 0, set.stderr);
  const get = cli(line('kheish-daemon runtime hooks get'));
  assert.equal(get.status, 0, get.stderr);
  assert.match(get.stdout, /pre_tool_use\s+guard-bash\s+command\s+bash\s+closed\/0/);

  const refused = await shell('doc-1', 'clean up');
  assert.equal(refused.is_error, true);
  assert.match(refused.content, /blocked by a pre_tool_use hook: rm -rf is not allowed here/);
  const allowed = await shell('doc-2', 'look around');
  assert.equal(allowed.is_error, false, allowed.content);
  const audit = (await http(d.url, 'GET', '/v1/sessions/doc-1/permission-audits')).body[0];
  assert.equal(audit.hooks_evaluated, true);
  assert.equal(audit.decision, 'deny');
});

test('docs/hooks.md: the wire example names the fields a command hook receives', async () => {
  const wireExample = JSON.parse(
    blocks.find((b) => b.lang === 'json' && b.body.includes('"contract_version"'))!.body,
  );
  const seen = join(cwd, 'seen.json');
  const hooks = {
    hooks: { pre_tool_use: [{ name: 'record', executor: { type: 'command', command: `cat > ${seen}` } }] },
  };
  assert.equal((await http(d.url, 'POST', '/v1/runtime/hooks', hooks)).status, 200);
  await shell('doc-wire', 'clean up');
  const wire = JSON.parse(readFileSync(seen, 'utf8'));
  assert.deepEqual(Object.keys(wire).sort(), Object.keys(wireExample).sort());
  assert.deepEqual(Object.keys(wire.payload).sort(), Object.keys(wireExample.payload).sort());
});

test('docs/hooks.md: the http example fails, is dead-lettered, and the page lines list and resolve it', async () => {
  writeFileSync(
    join(cwd, 'hooks.json'),
    settings[1]!.replace(
      'https://hooks.example.com/kheish/session-start',
      `http://127.0.0.1:${port}/kheish/session-start`,
    ),
  );
  assert.equal(cli(line('kheish-daemon runtime hooks set --file')).status, 0);
  assert.equal(
    (await http(d.url, 'POST', '/v1/sessions', { session_id: 'doc-http' })).status,
    201,
    'open policy',
  );
  const list = cli(line('kheish-daemon runtime hooks dead-letter'));
  assert.equal(list.status, 0, list.stderr);
  assert.match(list.stdout, /session_start\s+audit-sink\s+http:\/\/127\.0\.0\.1:\d+\s+open\s+3\s+no/);
  const [record] = (await http(d.url, 'GET', '/v1/runtime/hooks/dead-letter')).body;
  const resolveLine = line('kheish-daemon runtime hooks resolve-dead-letter');
  const id = /hdl-[0-9a-z]+/.exec(resolveLine)![0];
  const resolved = cli(resolveLine, { [id]: record.id });
  assert.equal(resolved.status, 0, resolved.stderr);
  const status = (await http(d.url, 'GET', '/v1/status')).body;
  assert.equal(status.hooks.unresolved_dead_lettered_count, 0);
  assert.equal(
    (await http(d.url, 'GET', '/v1/runtime/hooks/dead-letter')).body[0].resolutions[0].reason,
    'sink fixed',
  );
});

test('docs/hooks.md: the config_change freeze refuses a runtime change; --skip-hooks passes', async () => {
  writeFileSync(join(cwd, 'hooks.json'), settings[2]!);
  assert.equal(cli(line('kheish-daemon runtime hooks set --file')).status, 0);
  const before = (await http(d.url, 'GET', '/v1/runtime')).body.config.revision;
  const blocked = cli(line('kheish-daemon runtime set-permission-mode'));
  assert.equal(blocked.status, 6, blocked.stdout + blocked.stderr);
  assert.match(blocked.stderr, /change freeze until Monday/);
  assert.equal((await http(d.url, 'GET', '/v1/runtime')).body.config.revision, before);
  const forced = cli(line('kheish-daemon runtime hooks set --reset --skip-hooks'));
  assert.equal(forced.status, 0, forced.stderr);
  const revisions = (await http(d.url, 'GET', '/v1/runtime/revisions')).body.revisions;
  assert.equal(revisions[0].source, 'runtime_api_force');
  assert.deepEqual((await http(d.url, 'GET', '/v1/runtime/hooks')).body, { schema_version: 1, hooks: {} });
});
