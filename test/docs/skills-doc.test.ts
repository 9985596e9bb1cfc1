// docs/skills.md, followed as written: the skill files of the page are written where the page puts
// them, the daemon starts with the page's `serve` flags, and the page's CLI lines print the tables
// the page shows (before and after hiding a skill with the capability scope).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { BIN, startDaemon, tempDir } from '../helpers/daemon.ts';
import { fencedBlocks, fileNamedBefore, cliArgs as words } from './markdown.ts';

const DOC = resolve(import.meta.dirname, '../../docs/skills.md');
const text = readFileSync(DOC, 'utf8');
const lines = text.split('\n');
const blocks = fencedBlocks('docs/skills.md', text);

const fileOf = (line: number) => fileNamedBefore(lines, line, /^`([^`]+\/(?:SKILL\.md|kheish\.yaml))`:$/);

test('docs/skills.md: the skill tree of the page loads and the CLI prints the tables it shows', async () => {
  const base = realpathSync(tempDir('kheish-skills-doc-'));
  const files = blocks.flatMap((b) => {
    const path = fileOf(b.line);
    return path ? [{ path, body: b.body }] : [];
  });
  assert.deepEqual(
    files.map((f) => f.path),
    [
      'my-project/skills/release-notes/SKILL.md',
      'my-project/skills/review/security/SKILL.md',
      'my-project/skills/review/security/agents/kheish.yaml',
      'team-skills/changelog-style/SKILL.md',
    ],
  );
  for (const f of files) {
    mkdirSync(dirname(join(base, f.path)), { recursive: true });
    writeFileSync(join(base, f.path), `${f.body}\n`);
  }
  const sh = blocks.filter((b) => b.lang === 'sh').map((b) => b.body.trim().split('\n'));
  const serve = sh.flat().find((l) => l.startsWith('kheish-daemon serve'))!;
  // Relative directories of the page are relative to where it runs the daemon: `base` here.
  const flags = words(serve)
    .slice(1)
    .map((w) => (w.startsWith('--') ? w : join(base, w)));
  const tables = blocks.filter((b) => b.lang === 'text' && b.body.startsWith('NAME'));
  assert.equal(tables.length, 2);
  const d = await startDaemon({
    script: { default: { turns: [{ text: 'ok' }] } },
    args: flags,
    env: { HOME: join(base, 'home') },
  });
  try {
    const cli = (line: string) => {
      const out = spawnSync(BIN, words(line), {
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, KHEISH_DAEMON_URL: d.url },
      });
      assert.equal(out.status, 0, `${line}\n${out.stderr}`);
      return out.stdout;
    };
    const [list, hide] = sh.filter((b) => b.some((l) => l.includes('sessions skills')));
    for (const [block, table] of [
      [list!, tables[0]!],
      [hide!, tables[1]!],
    ] as const) {
      let last = '';
      for (const line of block) last = cli(line);
      assert.equal(last.trimEnd(), table.body.trimEnd(), `output of ${block.at(-1)}`);
    }
    const runtime = (await (await fetch(`${d.url}/v1/runtime`)).json()) as any;
    assert.deepEqual(runtime.skills.roots.slice(0, 2), [
      { path: join(base, 'team-skills'), scope: 'explicit' },
      { path: join(base, 'my-project/skills'), scope: 'repo' },
    ]);
    assert.deepEqual(runtime.skills.warnings, []);
    const security = (await (await fetch(`${d.url}/v1/skills/review:security`)).json()) as any;
    assert.deepEqual(security.runtime, {
      allowed_tools: ['read_file', 'grep_search', 'glob_search'],
      blocked_tools: [],
      context: 'fork',
      agent_profile: 'verification',
    });
  } finally {
    await d.kill();
    await d.cleanup();
  }
});
