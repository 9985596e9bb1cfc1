// docs/operations.md (Doctor, Monitoring, Container, Reverse proxy), followed as written: its `kheish-daemon doctor …` lines run
// against a real daemon, its curl line and its SDK snippet fetch /metrics, the --metrics-bind
// failure it quotes is the daemon's, and each start-up refusal it shows is what `serve` prints.
// (The docker lines are not run: CI has no registry; test/deploy checks the files they use.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { BIN, startDaemon, type TestDaemon, tempDir } from '../helpers/daemon.ts';
import { parsePrometheusText, sampleValue } from '../helpers/prom-text.ts';
import { fencedBlocks, shellWords } from './markdown.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const PAGE = 'docs/operations.md';
const text = readFileSync(join(ROOT, PAGE), 'utf8');
const blocks = fencedBlocks(PAGE, text);
const section = (title: string) => {
  const start = text.indexOf(`\n## ${title}\n`);
  const end = text.indexOf('\n## ', start + 1);
  return text.slice(start, end < 0 ? undefined : end);
};
const within = (title: string) => {
  const s = section(title);
  const at = text.indexOf(s);
  const first = text.slice(0, at).split('\n').length;
  const last = first + s.split('\n').length;
  return blocks.filter((b) => b.line >= first && b.line <= last);
};

const ADMIN = 'ops-doc-admin-token';
let d: TestDaemon;
const cwd = tempDir('kheish-ops-doc-');

before(async () => {
  d = await startDaemon({
    script: { default: { turns: [{ text: 'ok' }] } },
    args: ['--workspace-root', join(cwd, 'ws'), '--http-admin-token', ADMIN],
  });
  writeFileSync(join(cwd, 'admin-token.txt'), `${ADMIN}\n`);
});
after(async () => {
  await d?.stop();
  await d?.cleanup();
});

function cli(words: string[], env: Record<string, string> = {}) {
  return spawnSync(BIN, words, {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, KHEISH_DAEMON_URL: d.url, KHEISH_DAEMON_TOKEN: ADMIN, ...env },
  });
}

test('docs: the doctor lines run as printed against a daemon', () => {
  const lines = within('Doctor')
    .filter((b) => b.lang === 'sh')
    .flatMap((b) => b.body.split('\n'))
    .filter((l) => l.startsWith('kheish-daemon doctor'));
  assert.equal(lines.length, 4, lines.join('\n'));
  for (const line of lines) {
    const r = cli(shellWords(line).slice(1));
    assert.equal(r.status, 0, `${line}\n${r.stdout}${r.stderr}`);
    if (line.includes('--output json')) {
      const view = JSON.parse(r.stdout);
      assert.equal(view.ok, true);
      const shown = JSON.parse(within('Doctor').find((b) => b.lang === 'json')!.body);
      const same = view.checks.find((c: { code: string }) => c.code === shown.code);
      assert.deepEqual(same, shown, 'the JSON example is what this daemon reports');
    }
    if (line.includes('--canary')) assert.match(r.stdout, /canary local\/scripted: passed/);
  }
});

test('docs: the curl line and the SDK snippet fetch /metrics', async () => {
  const curl = within('Monitoring')
    .filter((b) => b.lang === 'sh')
    .flatMap((b) => b.body.split('\n'))
    .find((l) => l.startsWith('curl '))!;
  const header = /-H "Authorization: Bearer \$\(cat (\S+)\)"/.exec(curl)!;
  const url = /(http:\/\/127\.0\.0\.1:4000)(\/\S+)/.exec(curl)!;
  const token = readFileSync(join(cwd, header[1]!), 'utf8').trim();
  const res = await fetch(`${d.url}${url[2]}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  assert.equal(sampleValue(parsePrometheusText(await res.text()), 'kheish_ready'), 1);

  const snippet = within('Monitoring').find((b) => b.lang === 'ts')!.body;
  const file = join(cwd, 'snippet.ts');
  writeFileSync(
    file,
    `${snippet.replace("'kheish-daemon/sdk'", JSON.stringify(join(ROOT, 'src/sdk/index.ts')))}\nprocess.stdout.write(text);\n`,
  );
  // Kheish.fromEnv() reads KHEISH_BASE_URL and KHEISH_TOKEN (docs/sdk.md).
  const run = spawnSync(process.execPath, [file], {
    encoding: 'utf8',
    env: { ...process.env, KHEISH_BASE_URL: d.url, KHEISH_TOKEN: ADMIN },
  });
  assert.equal(run.status, 0, run.stderr);
  assert.ok(parsePrometheusText(run.stdout).has('kheish_runs'));
});

test('docs: the --metrics-bind failure quoted is the daemon one', async () => {
  const quoted = within('Monitoring').find((b) => b.lang === 'text' && b.body.includes('--metrics-bind'))!;
  const port = /127\.0\.0\.1:(\d+)/.exec(quoted.body)![1]!;
  const taken = createServer();
  const listening = await new Promise<boolean>((resolveListen) => {
    taken.once('error', () => resolveListen(false));
    taken.listen(Number(port), '127.0.0.1', () => resolveListen(true));
  });
  try {
    const r = cli([
      'serve',
      '--state-root',
      join(cwd, 'm'),
      '--bind',
      '127.0.0.1:0',
      '--metrics-bind',
      `127.0.0.1:${port}`,
    ]);
    assert.equal(r.status, 2);
    // Taken by this test, or by something else on the machine: the same refusal either way.
    assert.equal(r.stderr.trim(), quoted.body.trim(), listening ? '' : 'port was already taken');
  } finally {
    taken.close();
  }
});

test('docs: each start-up refusal shown is what serve prints, exit 2', () => {
  const refusals = within('Container');
  let checked = 0;
  for (let i = 0; i + 1 < refusals.length; i++) {
    const [cmd, out] = [refusals[i]!, refusals[i + 1]!];
    if (cmd.lang !== 'sh' || out.lang !== 'text' || !cmd.body.includes('kheish-daemon serve')) continue;
    const words = shellWords(cmd.body.trim());
    const env: Record<string, string> = {};
    while (/^[A-Z_]+=/.test(words[0]!)) {
      const [k, ...v] = words.shift()!.split('=');
      env[k!] = v.join('=');
    }
    assert.equal(words.shift(), 'kheish-daemon');
    // Nothing the page names is on this machine, and nothing of the operator's environment counts.
    const r = cli(words, {
      KHEISH_STATE_ROOT: '',
      KHEISH_WORKSPACE_ROOT: '',
      KHEISH_AUTH_STORE_MASTER_KEY: '',
      KHEISH_AUTH_STORE_MASTER_KEY_FILE: '',
      ...env,
    });
    assert.equal(r.status, 2, `${cmd.body}\n${r.stderr}`);
    assert.equal(r.stderr.trim(), out.body.trim(), cmd.where);
    checked++;
  }
  assert.equal(checked, 5);
});
