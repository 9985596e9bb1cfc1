// The secrets API against a real daemon process (needs the boot wiring: SecretStore.boot in
// src/daemon.ts, registerSecretRoutes in src/http/server.ts). Every response body and every log
// line of every daemon started here is kept and searched for the secret values at the end.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { DaemonClient } from '../../src/sdk/client.ts';
import { DaemonProblemError } from '../../src/sdk/errors.ts';
import { BIN, type HttpResult, http as rawHttp, startDaemon, type TestDaemon } from '../helpers/daemon.ts';

const ADMIN = `admin-${randomBytes(8).toString('hex')}`;
const READONLY = `ro-${randomBytes(8).toString('hex')}`;
// Random, prefix-free values: a leak of any 8 consecutive characters is detectable.
const SECRETS = Array.from({ length: 4 }, () => randomBytes(24).toString('hex'));
const [API_KEY, OPAQUE, CLI_VALUE, OFFLINE_VALUE] = SECRETS as [string, string, string, string];

const texts: string[] = [];
const daemons: TestDaemon[] = [];
const roots: string[] = [];
after(async () => {
  for (const d of daemons) {
    if (d.proc.exitCode === null) await d.stop();
    texts.push(d.logs());
  }
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

async function daemon(env: Record<string, string>, stateRoot?: string): Promise<TestDaemon> {
  const d = await startDaemon({
    stateRoot,
    env,
    args: ['--http-admin-token', ADMIN, '--http-readonly-token', READONLY],
  });
  daemons.push(d);
  if (!stateRoot) roots.push(d.stateRoot);
  return d;
}

async function http(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  token = ADMIN,
): Promise<HttpResult> {
  const res = await rawHttp(base, method, path, body, { authorization: `Bearer ${token}` });
  texts.push(res.text);
  return res;
}

function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      texts.push(out);
      resolve({ code, out });
    });
  });
}

const newKey = () => randomBytes(32).toString('base64');
const STATUS_KEYS = ['details', 'mode', 'provider', 'slot_id', 'summary', 'updated_at_ms'];

describe('secrets API and CLI against a running daemon', () => {
  const key = newKey();
  let d: TestDaemon;

  test('api-core #74 / ops-runtime #22: write, list, get, delete; reads are redacted', async () => {
    d = await daemon({ KHEISH_AUTH_STORE_MASTER_KEY: key });
    assert.deepEqual((await http(d.url, 'GET', '/v1/runtime/secrets')).body, []);

    let res = await http(d.url, 'POST', '/v1/runtime/secrets', {
      slot_id: 'openai.prod',
      provider: 'open_ai',
      mode: 'api_key',
      state: { kind: 'api_key', api_key: API_KEY, organization: 'org_123', project: 'proj_123' },
      updated_at_ms: 1,
    });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(Object.keys(res.body).sort(), STATUS_KEYS);
    assert.equal(res.body.summary, `api_key ••••${API_KEY.slice(-4)}`);
    assert.ok(res.body.updated_at_ms > 1, 'the daemon stamps its own time');

    res = await http(d.url, 'POST', '/v1/runtime/secrets', {
      slot_id: 'connectors.http.inbox.bearer_token',
      provider: 'generic',
      mode: 'opaque_secret',
      state: { value: OPAQUE },
    });
    assert.equal(res.status, 200, res.text);

    res = await http(d.url, 'GET', '/v1/runtime/secrets');
    assert.deepEqual(
      res.body.map((s: any) => s.slot_id),
      ['connectors.http.inbox.bearer_token', 'openai.prod'],
    );
    for (const s of res.body) assert.deepEqual(Object.keys(s).sort(), STATUS_KEYS);

    res = await http(d.url, 'GET', '/v1/runtime/secrets/openai.prod');
    assert.equal(res.status, 200);
    assert.equal(res.body.provider, 'open_ai');
    assert.equal(res.body.details.organization, 'org_123');

    res = await http(d.url, 'DELETE', '/v1/runtime/secrets/connectors.http.inbox.bearer_token');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { accepted: true });
    res = await http(d.url, 'DELETE', '/v1/runtime/secrets/connectors.http.inbox.bearer_token');
    assert.equal(res.status, 404);
  });

  test('errors: unknown slot 404, bad ref 400, bad records 400, all problem+json without values', async () => {
    let res = await http(d.url, 'GET', '/v1/runtime/secrets/nope.prod');
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('content-type'), 'application/problem+json');
    assert.equal(res.body.domain, 'runtime');
    assert.equal(res.body.code, 'secret_not_found');

    res = await http(d.url, 'GET', '/v1/runtime/secrets/bad%20ref');
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'invalid_secret_ref');

    for (const body of [
      { slot_id: 'x', provider: 'generic', mode: 'opaque_secret', state: { api_key: OPAQUE } },
      { slot_id: 'bad id', provider: 'generic', mode: 'opaque_secret', state: { value: OPAQUE } },
      { slot_id: 'x', provider: 'azure', mode: 'api_key', state: { api_key: OPAQUE } },
      { slot_id: 'x', provider: 'generic', mode: 'opaque_secret', state: { value: 7 }, note: OPAQUE },
    ]) {
      res = await http(d.url, 'POST', '/v1/runtime/secrets', body);
      assert.equal(res.status, 400, res.text);
    }
    // Malformed JSON (an unquoted value): the parser's message must not quote the body back.
    res = await http(
      d.url,
      'POST',
      '/v1/runtime/secrets',
      `{"slot_id":"x","provider":"generic","mode":"opaque_secret","state":{"value":x${OPAQUE}}}`,
    );
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'bad_request');
  });

  test('ops-runtime #17: the read-only token cannot read the secret inventory', async () => {
    for (const path of ['/v1/runtime/secrets', '/v1/runtime/secrets/openai.prod']) {
      const res = await http(d.url, 'GET', path, undefined, READONLY);
      assert.ok(res.status === 401 || res.status === 403, `${path}: ${res.status}`);
    }
    assert.equal((await http(d.url, 'GET', '/v1/runtime/secrets', undefined, 'wrong')).status, 401);
  });

  test('online CLI: set / list / get / delete through the API; --reveal refused', async () => {
    const base = ['--base-url', d.url, '--token', ADMIN];
    let res = await cli([...base, 'secrets', 'set', 'cli.slot', '--provider', 'xai', '--from-env', 'V'], {
      V: CLI_VALUE,
    });
    assert.equal(res.code, 0, res.out);
    assert.match(res.out, /stored secret cli\.slot \(xai, api_key ••••/);
    res = await cli([...base, '--output', 'json', 'secrets', 'list']);
    assert.deepEqual(
      JSON.parse(res.out).map((s: any) => s.slot_id),
      ['cli.slot', 'openai.prod'],
    );
    res = await cli([...base, 'secret', 'get', 'cli.slot']);
    assert.equal(res.code, 0);
    assert.match(res.out, /provider: +xai/);
    res = await cli([...base, 'secrets', 'get', 'cli.slot', '--reveal']);
    assert.equal(res.code, 2);
    res = await cli([...base, 'secrets', 'delete', 'cli.slot']);
    assert.equal(res.code, 0);
    res = await cli([...base, 'secrets', 'get', 'cli.slot']);
    assert.equal(res.code, 5);
    assert.match(res.out, /secret_not_found/);
  });

  test('ops-runtime #24: an offline write is read by the daemon with the same key; another key refuses to start', async () => {
    assert.equal(await d.stop(), 0);
    texts.push(d.logs());
    const res = await cli(
      [
        'secrets',
        'set',
        'anthropic.prod',
        '--provider',
        'anthropic',
        '--value',
        OFFLINE_VALUE,
        '--offline',
        '--state-root',
        d.stateRoot,
      ],
      { KHEISH_AUTH_STORE_MASTER_KEY: key },
    );
    assert.equal(res.code, 0, res.out);

    const again = await daemon({ KHEISH_AUTH_STORE_MASTER_KEY: key }, d.stateRoot);
    const list = await new DaemonClient({ baseUrl: again.url, token: ADMIN }).listSecrets();
    texts.push(JSON.stringify(list));
    assert.deepEqual(
      list.map((s) => s.slot_id),
      ['anthropic.prod', 'openai.prod'],
    );
    await again.stop();
    texts.push(again.logs());

    const wrong = newKey();
    await assert.rejects(daemon({ KHEISH_AUTH_STORE_MASTER_KEY: wrong }, d.stateRoot), (err: Error) => {
      texts.push(err.message);
      assert.match(err.message, /daemon exited with 2 before it was ready/);
      assert.match(err.message, /master key does not match this state root/);
      assert.match(err.message, /nothing was read or overwritten/);
      return true;
    });
    await assert.rejects(
      daemon({ KHEISH_AUTH_STORE_MASTER_KEY: 'short' }, d.stateRoot),
      /not a valid master key/,
    );
  });

  test('ops-runtime #23: without a master key, POST does not persist and says why', async () => {
    const plain = await daemon({});
    const client = new DaemonClient({ baseUrl: plain.url, token: ADMIN });
    await assert.rejects(
      client.putSecret({
        slot_id: 'a',
        provider: 'generic',
        mode: 'opaque_secret',
        state: { value: OPAQUE },
      }),
      (err: unknown) => {
        assert.ok(err instanceof DaemonProblemError);
        assert.equal(err.status, 409);
        assert.equal(err.code, 'secret_store_unavailable');
        assert.match(err.detail, /KHEISH_AUTH_STORE_MASTER_KEY/);
        texts.push(JSON.stringify(err.body));
        return true;
      },
    );
    assert.deepEqual(await client.listSecrets(), []);
  });

  test('no secret value, nor any 8 characters of one, appears in responses or daemon logs', async () => {
    for (const dm of daemons) texts.push(dm.logs());
    const all = texts.join('\n');
    assert.ok(all.length > 1000, 'the test saw traffic and logs');
    for (const secret of SECRETS) {
      for (let i = 0; i + 8 <= secret.length; i++) {
        const window = secret.slice(i, i + 8);
        assert.ok(!all.includes(window), `a piece of a secret value leaked: …${window}…`);
      }
    }
  });
});
