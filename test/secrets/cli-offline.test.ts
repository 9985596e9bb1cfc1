// `kheish-daemon secrets …` as a user runs it: the real binary, --offline on a temporary state root.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { acquireStateRootLock } from '../../src/store/sqlite/open.ts';
import { BIN } from '../helpers/daemon.ts';

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

const dir = mkdtempSync(join(tmpdir(), 'kheish-secrets-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = `sk-ant-${randomBytes(16).toString('hex')}`;
const seen: string[] = [];

/** Runs the CLI with a clean client environment plus `env`; records all output for the leak check. */
function cli(args: string[], env: Record<string, string> = {}, input?: string): Promise<Result> {
  const base = { ...process.env };
  for (const name of [
    'KHEISH_AUTH_STORE_MASTER_KEY',
    'KHEISH_AUTH_STORE_MASTER_KEY_FILE',
    'KHEISH_STATE_ROOT',
    'KHEISH_DAEMON_URL',
    'KHEISH_DAEMON_TOKEN',
    'KHEISH_DAEMON_TOKEN_FILE',
  ])
    delete base[name];
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { env: { ...base, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      seen.push(stdout, stderr);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}

async function generate(): Promise<string> {
  const res = await cli(['secrets', 'generate']);
  assert.equal(res.code, 0);
  return res.stdout.trim();
}

describe('secrets CLI, offline', () => {
  test('ops-runtime #1: generate prints exactly one 44-char base64 line of 32 bytes, nothing on stderr, even with --output json', async () => {
    for (const args of [
      ['secrets', 'generate'],
      ['--output', 'json', 'secret', 'generate'],
    ]) {
      const res = await cli(args);
      assert.equal(res.code, 0);
      assert.equal(res.stderr, '');
      assert.match(res.stdout, /^[A-Za-z0-9+/]{43}=\n$/);
      assert.equal(Buffer.from(res.stdout.trim(), 'base64').length, 32);
    }
  });

  test('set / list / get / get --reveal / delete round trip', async () => {
    const key = await generate();
    const root = join(dir, 'round-trip');
    const env = { KHEISH_AUTH_STORE_MASTER_KEY: key };
    const offline = ['--offline', '--state-root', root];

    let res = await cli(
      ['secrets', 'set', 'anthropic.prod', '--provider', 'anthropic', '--stdin', ...offline],
      env,
      `${SECRET}\n`,
    );
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /stored secret anthropic\.prod \(anthropic, api_key ••••/);

    const file = join(dir, 'value.txt');
    writeFileSync(file, 'file-secret-value-0123456789\n');
    res = await cli(['secret', 'set', 'sidecars.webhook.shared', '--from-file', file, ...offline], env);
    assert.equal(res.code, 0, res.stderr);
    res = await cli(
      [
        'secrets',
        'set',
        'openai.prod',
        '--provider',
        'openai',
        '--from-env',
        'MY_KEY',
        '--organization',
        'org_1',
        ...offline,
      ],
      { ...env, MY_KEY: `${SECRET}-openai` },
    );
    assert.equal(res.code, 0, res.stderr);

    res = await cli(['--output', 'json', 'secrets', 'list', ...offline], env);
    assert.equal(res.code, 0, res.stderr);
    const list = JSON.parse(res.stdout);
    assert.deepEqual(
      list.map((s: any) => [s.slot_id, s.provider, s.mode]),
      [
        ['anthropic.prod', 'anthropic', 'api_key'],
        ['openai.prod', 'open_ai', 'api_key'],
        ['sidecars.webhook.shared', 'generic', 'opaque_secret'],
      ],
    );
    for (const s of list)
      assert.deepEqual(Object.keys(s).sort(), [
        'details',
        'mode',
        'provider',
        'slot_id',
        'summary',
        'updated_at_ms',
      ]);

    res = await cli(['secrets', 'list', ...offline], env);
    assert.match(res.stdout, /^SLOT\s+PROVIDER\s+MODE\s+SUMMARY\s+UPDATED$/m);
    res = await cli(['secrets', 'get', 'openai.prod', ...offline], env);
    assert.equal(res.code, 0);
    assert.match(res.stdout, /summary: +api_key ••••/);
    assert.match(res.stdout, /organization=org_1/);

    res = await cli(['secrets', 'get', 'anthropic.prod', '--reveal', ...offline], env);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, `${SECRET}\n`, '--stdin dropped the trailing newline');
    res = await cli(['secrets', 'get', 'sidecars.webhook.shared', '--reveal', ...offline], env);
    assert.equal(res.stdout, 'file-secret-value-0123456789\n');

    res = await cli(['--output', 'json', 'secrets', 'delete', 'openai.prod', ...offline], env);
    assert.equal(res.code, 0);
    assert.deepEqual(JSON.parse(res.stdout), { accepted: true });
    res = await cli(['secrets', 'get', 'openai.prod', ...offline], env);
    assert.equal(res.code, 5);
    assert.match(res.stderr, /secret_not_found/);

    const db = readFileSync(join(root, 'kheish.sqlite'));
    assert.ok(!db.includes(SECRET), 'the database holds the value in clear');
  });

  test('refuses while a daemon holds the state root', async () => {
    const root = join(dir, 'locked');
    const env = { KHEISH_AUTH_STORE_MASTER_KEY: await generate() };
    assert.equal(
      (await cli(['secrets', 'set', 'a', '--value', 'v1', '--offline', '--state-root', root], env)).code,
      0,
    );
    const lock = acquireStateRootLock(root);
    try {
      const res = await cli(['secrets', 'set', 'a', '--value', 'v2', '--offline', '--state-root', root], env);
      assert.equal(res.code, 6);
      assert.match(
        res.stderr,
        /state root .*locked is in use by a running kheish-daemon; --offline needs it stopped/,
      );
      assert.match(res.stderr, /without --offline/);
    } finally {
      lock.release();
    }
  });

  test('wrong or malformed master key, no key, bad flag combinations', async () => {
    const root = join(dir, 'keys');
    const key = await generate();
    const offline = ['--offline', '--state-root', root];
    assert.equal(
      (
        await cli(['secrets', 'set', 'a', '--value', SECRET, ...offline], {
          KHEISH_AUTH_STORE_MASTER_KEY: key,
        })
      ).code,
      0,
    );

    let res = await cli(['secrets', 'get', 'a', '--reveal', ...offline], {
      KHEISH_AUTH_STORE_MASTER_KEY: await generate(),
    });
    assert.equal(res.code, 2);
    assert.match(res.stderr, /master key does not match this state root/);

    res = await cli(['secrets', 'list', ...offline], { KHEISH_AUTH_STORE_MASTER_KEY: 'not-a-key' });
    assert.equal(res.code, 2);
    assert.match(res.stderr, /KHEISH_AUTH_STORE_MASTER_KEY is not a valid master key/);
    assert.ok(!res.stderr.includes('not-a-key'));

    const keyFile = join(dir, 'master.key');
    writeFileSync(keyFile, key, { mode: 0o600 });
    res = await cli(['secrets', 'list', ...offline], {
      KHEISH_AUTH_STORE_MASTER_KEY: key,
      KHEISH_AUTH_STORE_MASTER_KEY_FILE: keyFile,
    });
    assert.equal(res.code, 2);
    assert.match(
      res.stderr,
      /both KHEISH_AUTH_STORE_MASTER_KEY and KHEISH_AUTH_STORE_MASTER_KEY_FILE are set/,
    );
    res = await cli(['secrets', 'get', 'a', '--reveal', ...offline], {
      KHEISH_AUTH_STORE_MASTER_KEY_FILE: keyFile,
    });
    assert.equal(res.stdout, `${SECRET}\n`, 'the file key opens what the inline key wrote');

    res = await cli(['secrets', 'set', 'b', '--value', 'v', ...offline]);
    assert.equal(res.code, 6);
    assert.match(res.stderr, /secret_store_unavailable/);
    res = await cli(['secrets', 'list', ...offline]);
    assert.equal(res.code, 0, 'metadata stays readable without the key');
    assert.match(res.stderr, /secret slot\(s\) are stored but no KHEISH_AUTH_STORE_MASTER_KEY/);

    res = await cli(['secrets', 'get', 'a', '--reveal'], { KHEISH_AUTH_STORE_MASTER_KEY: key });
    assert.equal(res.code, 2);
    assert.match(res.stderr, /--reveal needs --offline/);
    res = await cli(['secrets', 'list', '--state-root', root]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /--state-root only applies with --offline/);
    res = await cli(
      ['secrets', 'set', 'c', '--value', 'v', '--stdin', ...offline],
      { KHEISH_AUTH_STORE_MASTER_KEY: key },
      'x',
    );
    assert.equal(res.code, 2);
    assert.match(res.stderr, /give the secret value once/);
    res = await cli(['secrets', 'set', 'c', ...offline], { KHEISH_AUTH_STORE_MASTER_KEY: key });
    assert.equal(res.code, 2);
    assert.match(res.stderr, /no secret value given/);
    res = await cli(['secrets', 'set', 'bad id', '--value', 'v', ...offline], {
      KHEISH_AUTH_STORE_MASTER_KEY: key,
    });
    assert.equal(res.code, 2);
    assert.match(res.stderr, /invalid_secret_record/);
    res = await cli(['secrets', 'list', '--offline', '--state-root', join(dir, 'nothing-here')]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /no daemon state at/);
    assert.ok(!existsSync(join(dir, 'nothing-here', 'kheish.sqlite')));
  });

  test('no command ever printed a value it was not asked to reveal', () => {
    // --reveal outputs are the only lines allowed to carry SECRET; they are exactly `${SECRET}\n`.
    const leaks = seen.filter((text) => text.includes(SECRET) && text !== `${SECRET}\n`);
    assert.deepEqual(leaks, []);
  });
});
