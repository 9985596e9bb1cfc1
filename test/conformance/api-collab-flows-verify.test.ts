// The Flow product-view verifier (api-collab §3.2 `POST /v1/flows/{id}/verify/product-view`,
// decisions 430–434): a report in the workspace with required Markdown sections, forbidden tools
// over the whole projection, the file tools' path confinement, and the `product_view` evidence a
// pass records. Both stores (KHEISH_TEST_STORE=postgres).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BIN, http, tempDir, waitForRun } from '../helpers/daemon.ts';
import { manifest, playbooksDaemon } from './playbooks-support.ts';
import { assertProblem } from './support.ts';

const { base, ok, published, startFlow, workspace } = playbooksDaemon();

const REPORT = [
  '# Product view',
  '',
  '## Summary',
  'All good.',
  '',
  'Risks',
  '-----',
  '```md',
  '## Not a heading (inside a fence)',
  '```',
].join('\n');

const verify = (flowId: string, body: unknown) =>
  http(base(), 'POST', `/v1/flows/${flowId}/verify/product-view`, body);

test('api-collab §3.2 verifier: a report with every required section passes and records product_view evidence once', async () => {
  const ref = await published(
    manifest('pbv-pass', { required_evidence: [{ kind: 'product_view', id: 'reports/view.md' }] }),
  );
  const flow = await startFlow(ref, 'sv-pass', 'hello', { flow_id: 'flow-v-pass' });
  await waitForRun(base(), flow.run_id);
  assert.equal((await ok('GET', '/v1/flows/flow-v-pass')).status, 'waiting', 'evidence still missing');
  mkdirSync(join(workspace(), 'reports'), { recursive: true });
  writeFileSync(join(workspace(), 'reports/view.md'), REPORT);
  const body = {
    report_path: './reports/../reports/view.md',
    required_sections: ['summary', 'PRODUCT VIEW', 'Risks'],
    forbidden_tools: ['bash'],
  };
  const res = await verify('flow-v-pass', body);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.flow_id, 'flow-v-pass');
  assert.equal(res.body.passed, true, res.text);
  assert.deepEqual(
    res.body.checks.map((c: any) => [c.name, c.passed]),
    [
      ['report_exists', true],
      ['section:summary', true],
      ['section:PRODUCT VIEW', true],
      ['section:Risks', true],
      ['forbidden_tools', true],
    ],
  );
  for (const c of res.body.checks) assert.equal(typeof c.details, 'string');
  assert.deepEqual(
    res.body.evidence.map((e: any) => `${e.kind}:${e.id}`),
    ['product_view:reports/view.md'],
  );
  // Again: the same verdict, still one evidence entry; the manifest's requirement is now met.
  assert.equal((await verify('flow-v-pass', body)).body.passed, true);
  const view = await ok('GET', '/v1/flows/flow-v-pass');
  assert.deepEqual(
    view.evidence_refs.filter((e: any) => e.kind === 'product_view').map((e: any) => e.id),
    ['reports/view.md'],
  );
  assert.equal(view.status, 'succeeded');
});

test('api-collab §3.2 verifier: a missing section or a missing report fails its check, records nothing', async () => {
  const ref = await published(manifest('pbv-miss'));
  const flow = await startFlow(ref, 'sv-miss', 'hello', { flow_id: 'flow-v-miss' });
  await waitForRun(base(), flow.run_id);
  writeFileSync(join(workspace(), 'miss.md'), REPORT);
  const res = await verify('flow-v-miss', {
    report_path: 'miss.md',
    required_sections: ['Summary', 'Not a heading (inside a fence)', 'Rollout'],
  });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.passed, false);
  const by = Object.fromEntries(res.body.checks.map((c: any) => [c.name, c]));
  assert.equal(by['section:Summary'].passed, true);
  assert.equal(by['section:Not a heading (inside a fence)'].passed, false, 'fenced code is not a heading');
  assert.equal(by['section:Rollout'].passed, false);
  assert.deepEqual(res.body.evidence, []);
  const absent = await verify('flow-v-miss', { report_path: 'nowhere/absent.md', required_sections: ['X'] });
  assert.equal(absent.status, 200, absent.text);
  assert.equal(absent.body.passed, false);
  assert.deepEqual(
    absent.body.checks.map((c: any) => [c.name, c.passed]),
    [
      ['report_exists', false],
      ['section:X', false],
      ['forbidden_tools', true],
    ],
  );
  assert.match(absent.body.checks[0].details, /does not exist/);
  const dir = await verify('flow-v-miss', { report_path: 'nowhere/..' });
  assert.equal(dir.status, 400, 'the workspace root itself is not a report');
  const view = await ok('GET', '/v1/flows/flow-v-miss');
  assert.equal(view.evidence_refs.filter((e: any) => e.kind === 'product_view').length, 0);
});

test('api-collab §3.2 verifier: a forbidden tool used by a Flow run fails, from the request or the manifest deny list', async () => {
  const ref = await published(manifest('pbv-tool'));
  writeFileSync(join(workspace(), 'notes.md'), '# Notes\n');
  const flow = await startFlow(ref, 'sv-tool', 'read-notes', { flow_id: 'flow-v-tool' });
  assert.equal((await waitForRun(base(), flow.run_id)).status, 'completed');
  const res = await verify('flow-v-tool', {
    report_path: 'notes.md',
    forbidden_tools: ['read_file', 'bash'],
  });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.passed, false);
  const tools = res.body.checks.find((c: any) => c.name === 'forbidden_tools');
  assert.equal(tools.passed, false);
  assert.match(tools.details, /read_file/);
  assert.doesNotMatch(tools.details, /bash/, 'bash was named but never called');
  assert.equal((await verify('flow-v-tool', { report_path: 'notes.md' })).body.passed, true);
  // A manifest deny list counts without enforcement (decision 432).
  const denyRef = await published(manifest('pbv-deny', { tools: { deny: ['read_file'] } }));
  const denied = await startFlow(denyRef, 'sv-deny', 'read-notes', { flow_id: 'flow-v-deny' });
  assert.equal((await waitForRun(base(), denied.run_id)).status, 'completed');
  const d = await verify('flow-v-deny', { report_path: 'notes.md' });
  assert.equal(d.body.passed, false);
  assert.match(d.body.checks.find((c: any) => c.name === 'forbidden_tools').details, /read_file/);
});

test('api-collab §3.2 verifier: a path escaping the workspace → 400 flows/invalid_report_path; unknown flow → 404', async () => {
  const ref = await published(manifest('pbv-esc'));
  const flow = await startFlow(ref, 'sv-esc', 'hello', { flow_id: 'flow-v-esc' });
  await waitForRun(base(), flow.run_id);
  const outside = tempDir('kheish-pbv-out-');
  writeFileSync(join(outside, 'secret.md'), '# Secret\n');
  symlinkSync(outside, join(workspace(), 'link-out'));
  for (const report_path of ['../secret.md', join(outside, 'secret.md'), 'link-out/secret.md', 'a\\b.md']) {
    const res = await verify('flow-v-esc', { report_path, required_sections: ['Secret'] });
    assertProblem(res, 400, 'flows', 'invalid_report_path');
    assert.doesNotMatch(res.text, /"passed"/);
  }
  assertProblem(await verify('flow-v-esc', {}), 400);
  assertProblem(await verify('no-such-flow', { report_path: 'x.md' }), 404, 'flows', 'flow_not_found');
});

test('api-collab §3.8 verifier CLI: flows verify-product-view prints each check and exits 1 on a failed verdict', async () => {
  const ref = await published(manifest('pbv-cli'));
  const flow = await startFlow(ref, 'sv-cli', 'hello', { flow_id: 'flow-v-cli' });
  await waitForRun(base(), flow.run_id);
  writeFileSync(join(workspace(), 'cli.md'), REPORT);
  const cli = (pre: string[], ...extra: string[]) =>
    spawnSync(
      BIN,
      [...pre, 'flows', 'verify-product-view', 'flow-v-cli', '--report-path', 'cli.md', ...extra],
      {
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, KHEISH_DAEMON_URL: base() },
      },
    );
  const bad = cli([], '--required-section', 'Summary', '--required-section', 'Rollout');
  assert.equal(bad.status, 1, bad.stderr);
  assert.match(bad.stdout, /flow-v-cli: failed/);
  assert.match(bad.stdout, /ok +section:Summary: heading present/);
  assert.match(bad.stdout, /FAIL section:Rollout: no such heading/);
  const good = cli(['--output', 'json'], '--required-section', 'Summary', '--forbidden-tool', 'bash');
  assert.equal(good.status, 0, good.stderr);
  const verdict = JSON.parse(good.stdout);
  assert.equal(verdict.passed, true);
  assert.deepEqual(
    verdict.evidence.map((e: any) => e.id),
    ['cli.md'],
  );
});
