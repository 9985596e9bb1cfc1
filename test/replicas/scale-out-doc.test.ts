// docs/scale-out.md, followed as written: the `serve` lines of its setup block start two replicas
// (with a fresh schema for the URL, free ports and temporary state roots), a run submitted to one
// is seen from the other, and the `status` line of the block prints both replicas.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { createSession, getRun, submitRun, waitTerminal } from '../crash/crash-kit.ts';
import { BIN, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { freshSchema } from '../helpers/pg-schema.ts';

const DOC = resolve(import.meta.dirname, '../../docs/scale-out.md');

/** The lines of the doc's first `sh` block. */
function setupBlock(): string[] {
  const text = readFileSync(DOC, 'utf8');
  const m = /```sh\n([\s\S]*?)```/.exec(text);
  assert.ok(m, 'docs/scale-out.md has a sh block');
  return m[1]!.trim().split('\n');
}

/** The flags of a `kheish-daemon serve …` line, with --bind and --state-root left to the harness. */
function serveFlags(line: string): string[] {
  const words = line.split(/\s+/).slice(2);
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    if (words[i] === '--bind' || words[i] === '--state-root') i++;
    else out.push(words[i]!);
  }
  return out;
}

test('docs/scale-out.md: the setup block gives two replicas of one system', async () => {
  const lines = setupBlock();
  assert.ok(lines[0]!.startsWith('export KHEISH_DATABASE_URL='), lines[0]);
  const serves = lines.filter((l) => l.startsWith('kheish-daemon serve'));
  assert.equal(serves.length, 2);
  const statusLine = lines.find((l) => l.includes(' status'));
  assert.ok(statusLine, 'the block ends with a status command');
  const schema = await freshSchema();
  const env = { KHEISH_DATABASE_URL: schema.url };
  const daemons: TestDaemon[] = [];
  try {
    for (const line of serves) daemons.push(await startDaemon({ args: serveFlags(line), env }));
    const [a, b] = daemons as [TestDaemon, TestDaemon];
    const sid = await createSession(a.url);
    const run = await submitRun(a.url, sid, 'hello replicas');
    const [done] = await waitTerminal(b.url, [run.run_id]);
    assert.equal(done.status, 'completed');
    assert.deepEqual(
      (await getRun(b.url, run.run_id)).outputs.map((o: { content: string }) => o.content),
      ['hello replicas'],
    );
    const args = statusLine.split(/\s+/).slice(1);
    args[args.indexOf('--base-url') + 1] = b.url;
    const out = spawnSync(BIN, args, { encoding: 'utf8', timeout: 30_000 });
    assert.equal(out.status, 0, out.stderr);
    assert.match(out.stdout, /replicas \(lease ttl 5000 ms\):/);
    assert.match(out.stdout, /^ {4}a alive http:\/\/127\.0\.0\.1:\d+ pid \d+: 0 live runs$/m);
    assert.match(out.stdout, /^ {2}\* b alive http:\/\/127\.0\.0\.1:\d+ pid \d+: 0 live runs$/m);
    assert.match(out.stdout, /storage:\s+ok \(postgres\)/);
  } finally {
    for (const d of daemons) {
      await d.stop().catch(() => undefined);
      await d.cleanup();
    }
    await schema.drop();
  }
});
