// docs/debugging.md, followed as written: the environment of its first block (a key from
// `secrets generate`, the redaction tokens), a daemon started with it, then every command of the
// walk-through and of the prune block, run with the real CLI against that daemon.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { fencedBlocks } from '../docs/markdown.ts';
import { BIN, startDaemon } from '../helpers/daemon.ts';

const PAGE = 'docs/debugging.md';
const TEXT = readFileSync(resolve(import.meta.dirname, '../..', PAGE), 'utf8');
const SH = fencedBlocks(PAGE, TEXT).filter((b) => b.lang === 'sh');

/** The words of one command line (double quotes grouped, `$RUN_ID` replaced). */
function words(line: string, runId: string): string[] {
  const out: string[] = [];
  for (const m of line.replaceAll('"$RUN_ID"', runId).matchAll(/"([^"]*)"|(\S+)/g)) out.push(m[1] ?? m[2]!);
  return out;
}

test('docs/debugging.md: the setup, walk-through and prune blocks work against a daemon', async () => {
  assert.ok(SH.length >= 3, 'the page has its three sh blocks');
  const [setup, walk, prune] = SH as [(typeof SH)[0], (typeof SH)[0], (typeof SH)[0]];

  // Setup: the two exports, the key made by the command the doc uses.
  const env: Record<string, string> = {};
  for (const line of setup.body.split('\n').filter((l) => l.startsWith('export '))) {
    const [, name, value] = /^export (\w+)="(.*)"$/.exec(line)!;
    if (value === '$(kheish-daemon secrets generate)') {
      const gen = spawnSync(BIN, ['secrets', 'generate'], { encoding: 'utf8' });
      assert.equal(gen.status, 0, gen.stderr);
      env[name!] = gen.stdout.trim();
    } else env[name!] = value!;
  }
  assert.deepEqual(Object.keys(env), ['KHEISH_DEBUG_CAPTURE_KEY', 'KHEISH_DEBUG_REDACT_TOKENS']);
  assert.ok(setup.body.includes('kheish-daemon serve'));
  const d = await startDaemon({ env });
  const cli = (args: string[]) => {
    const r = spawnSync(BIN, args, {
      encoding: 'utf8',
      env: { ...process.env, KHEISH_DAEMON_URL: d.url },
      timeout: 30_000,
    });
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  try {
    let runId = '';
    const lines = walk.body.split('\n').filter((l) => l.startsWith('kheish-daemon '));
    assert.equal(lines.length, 6);
    const outputs: string[] = [];
    for (const line of lines) {
      const out = cli(words(line, runId).slice(1));
      outputs.push(out);
      if (line.includes('runs submit')) {
        runId = /run-[0-9a-z]+/.exec(out)?.[0] ?? '';
        assert.ok(runId, `the submit printed a run id: ${out}`);
      }
    }
    const [setLevel, submit, bundle, artifact, dryRun, off] = outputs as string[];
    assert.match(setLevel!, /debug level: redacted/);
    assert.match(submit!, /completed/);
    // The bundle lists the request and response of the one model call, encrypted.
    assert.match(bundle!, /turn-0001-attempt-0001-model-request\s+json\s+\d+\s+no\s+yes \([0-9a-f]{16}\)/);
    assert.match(bundle!, /turn-0001-attempt-0001-model-response/);
    // The artifact is decrypted, and the operator's token is gone from it.
    const request = JSON.parse(artifact!);
    assert.equal(request.level, 'redacted');
    assert.equal(request.messages.at(-1).content, 'Why did the deploy for [redacted] fail?');
    assert.ok(!artifact!.includes('tenant-canary-42'));
    // Nothing is 7 days old yet.
    assert.match(dryRun!, /^dry run: would prune 0 debug bundles/);
    assert.match(off!, /debug level: off/);

    // The prune block: a dry run, then a real prune scoped to the session (nothing old enough).
    for (const line of prune.body.split('\n').filter((l) => l.startsWith('kheish-daemon ')))
      assert.match(cli(words(line, runId).slice(1)), /prune 0 debug bundles|pruned 0 debug bundles/);
    // The run's bundle is still there, readable as JSON through the CLI.
    const json = JSON.parse(cli(['--output', 'json', 'runs', 'debug', runId]));
    assert.equal(json.run_id, runId);
    assert.ok(json.artifacts.every((a: { encrypted: boolean }) => a.encrypted));
  } finally {
    await d.stop();
    await d.cleanup();
  }
});
