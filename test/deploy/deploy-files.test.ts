// The container and monitoring files under deploy/ (docs/operations.md). No image is
// built here (CI has no registry): the Dockerfile's copies must exist, its defaults must be the
// documented ones, and the alert rules and the dashboard may only query metrics /metrics exports.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { makeInstruments } from '../../src/features/metrics/instruments.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

/** Dockerfile instructions with their continuation lines joined. */
function instructions(text: string): Array<{ op: string; args: string }> {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op!.toUpperCase(), args: rest.join(' ') };
    });
}

test('Dockerfile: multi-stage, every COPY source exists, non-root, tini, the §14 defaults', () => {
  const ins = instructions(read('Dockerfile'));
  assert.ok(ins.filter((i) => i.op === 'FROM').length >= 2, 'multi-stage');
  for (const copy of ins.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))) {
    const parts = copy.args.split(/\s+/).filter((p) => !p.startsWith('--'));
    for (const src of parts.slice(0, -1)) assert.ok(existsSync(join(ROOT, src)), `COPY ${src} exists`);
  }
  const ignore = read('.dockerignore');
  for (const copy of ins.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from')))
    for (const src of copy.args.split(/\s+/).slice(0, -1))
      assert.ok(!ignore.split('\n').includes(src), `${src} is not excluded by .dockerignore`);
  const user = ins.filter((i) => i.op === 'USER').at(-1)?.args;
  assert.ok(user && user !== 'root' && user !== '0', 'runs as a non-root user');
  assert.match(ins.find((i) => i.op === 'ENTRYPOINT')!.args, /"\/usr\/bin\/tini", "--"/);
  const env = ins
    .filter((i) => i.op === 'ENV')
    .map((i) => i.args)
    .join(' ');
  for (const pair of [
    'KHEISH_BIND=0.0.0.0:4000',
    'KHEISH_STATE_ROOT=/var/lib/kheish/state',
    'KHEISH_WORKSPACE_ROOT=/workspace',
    'KHEISH_HTTP_AUTH_MODE=bearer',
    'KHEISH_MCP_DISCOVERY=disabled',
    'KHEISH_STRICT_PATHS=true',
  ])
    assert.ok(env.split(/\s+/).includes(pair), `ENV ${pair}`);
  const apt = ins.find((i) => i.op === 'RUN' && i.args.includes('tini'))!.args;
  for (const pkg of ['bash', 'ripgrep', 'procps', 'git', 'ca-certificates', 'tini'])
    assert.match(apt, new RegExp(`\\b${pkg}\\b`));
});

test('docker-compose.yml: secrets as files, named volumes, and only files that exist (or the operator makes)', () => {
  const compose = read('docker-compose.yml');
  assert.match(compose, /KHEISH_DAEMON_ADMIN_TOKEN_FILE: \/run\/secrets\//);
  assert.match(compose, /KHEISH_AUTH_STORE_MASTER_KEY_FILE: \/run\/secrets\//);
  assert.match(compose, /KHEISH_DAEMON_TOKEN_FILE: \/run\/secrets\//);
  assert.doesNotMatch(
    compose,
    /KHEISH_DAEMON_ADMIN_TOKEN:|KHEISH_AUTH_STORE_MASTER_KEY:/,
    'no inline secrets',
  );
  assert.match(compose, /- kheish-state:\/var\/lib\/kheish\/state/);
  assert.match(compose, /- kheish-workspace:\/workspace/);
  for (const [, path] of compose.matchAll(/(\.\/[\w./-]+)/g)) {
    if (path!.startsWith('./deploy/secrets/')) continue; // made by the operator (see the header)
    assert.ok(existsSync(join(ROOT, path!)), `${path} exists`);
  }
});

test('nginx: SSE paths unbuffered with long timeouts; no location drops the forwarded headers', () => {
  const conf = read('deploy/reverse-proxy/nginx-kheish.conf').replace(/#.*$/gm, '');
  const sse = /location ~ \^\/v1\/\(events\/stream[^{]*\{([^}]*)\}/.exec(conf)?.[1];
  assert.ok(sse, 'an SSE location');
  assert.match(sse!, /proxy_buffering off;/);
  assert.match(sse!, /proxy_cache off;/);
  assert.match(sse!, /X-Accel-Buffering no/);
  assert.match(sse!, /proxy_read_timeout 3600s;/);
  for (const path of ['sessions/[^/]+/stream', 'runs/[^/]+/stream', 'flows/[^/]+/stream'])
    assert.ok(conf.includes(path), path);
  for (const [, body] of conf.matchAll(/location [^{]*\{([^}]*)\}/g))
    assert.doesNotMatch(
      body!,
      /proxy_set_header/,
      'a proxy_set_header in a location drops the server-level ones',
    );
  assert.match(conf, /proxy_http_version 1\.1;/);
  assert.doesNotMatch(conf, /Access-Control-Allow-Origin/i);
});

async function exportedNames(): Promise<Set<string>> {
  const m = makeInstruments(await import('prom-client'));
  const names = new Set<string>();
  for (const { name, type } of await m.registry.getMetricsAsJSON()) {
    names.add(name);
    if (String(type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
  }
  return names;
}

test('alerts and dashboard query only metrics that /metrics exports', async () => {
  const names = await exportedNames();
  const alerts = read('deploy/prometheus/alerts.yml');
  const exprs = [...alerts.matchAll(/^\s+expr: (.+)$/gm)].map((m) => m[1]!);
  assert.ok(exprs.length >= 8);
  const dash = JSON.parse(read('deploy/grafana/kheish.json'));
  for (const p of dash.panels) for (const t of p.targets) exprs.push(t.expr);
  for (const v of dash.templating.list) if (v.definition) exprs.push(v.definition);
  for (const expr of exprs) {
    const used = [...expr.matchAll(/\b(kheish_[a-z0-9_]+)\b/g)].map((m) => m[1]!);
    assert.ok(used.length > 0, `${expr} queries a kheish metric`);
    for (const name of used) assert.ok(names.has(name), `${name} (in ${expr}) is exported`);
  }
});
