// Every TypeScript block of docs/sdk.md typechecks against the SDK as a reader would paste it: each
// block is a file of its own importing `kheish-daemon/sdk`, checked by the project's tsc with the
// project's compiler options. (Typechecked, not run: most blocks need a model or an operator; the
// runnable example is examples/sdk-quickstart.ts, run by test/integration/sdk-quickstart.test.ts.)
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { fencedBlocks } from './markdown.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const PAGE = 'docs/sdk.md';
const TSC = join(ROOT, 'node_modules', '.bin', 'tsc');

/** A block that must fail, so a checker that checks nothing cannot pass. */
const CANARY = `import { Kheish } from 'kheish-daemon/sdk';\nawait Kheish.fromEnv().responses.creat({ prompt: 'x' });\n`;

test('docs/sdk.md: every ts block typechecks against kheish-daemon/sdk', async () => {
  const blocks = fencedBlocks(PAGE, readFileSync(join(ROOT, PAGE), 'utf8')).filter((b) =>
    ['ts', 'typescript'].includes(b.lang),
  );
  assert.ok(blocks.length >= 5, `${blocks.length} ts blocks`);
  for (const b of blocks) assert.match(b.body, /from 'kheish-daemon\/sdk'/, `${b.where} imports the SDK`);

  const dir = mkdtempSync(join(tmpdir(), 'kheish-sdk-docs-'));
  try {
    const root = JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8'));
    const files = blocks.map((b) => ({ name: `line-${b.line}.ts`, block: b }));
    for (const f of files) writeFileSync(join(dir, f.name), f.block.body);
    writeFileSync(join(dir, 'canary.ts'), CANARY);
    // ES modules (top-level await), the SDK by its package name, Node's types from the project.
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    const compilerOptions = {
      ...root.compilerOptions,
      paths: { 'kheish-daemon/sdk': [join(ROOT, 'src', 'sdk', 'index.ts')] },
      typeRoots: [join(ROOT, 'node_modules', '@types')],
    };
    const config = { compilerOptions, files: [...files.map((f) => f.name), 'canary.ts'] };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(config));

    const out = await promisify(execFile)(TSC, ['--noEmit', '-p', join(dir, 'tsconfig.json')], {
      cwd: dir,
    }).then(
      () => '',
      (err: { stdout?: string }) => err.stdout ?? String(err),
    );
    const errors = out.split('\n').filter((l) => /\(\d+,\d+\): error/.test(l));
    assert.ok(
      errors.some((l) => l.startsWith('canary.ts') && l.includes("'creat'")),
      `the checker reports a misspelt method:\n${out}`,
    );
    // Map block errors back to lines of the page.
    const problems = errors
      .filter((l) => !l.startsWith('canary.ts'))
      .map((l) => {
        const m = /^line-(\d+)\.ts\((\d+),\d+\): (.*)$/.exec(l);
        return m ? `${PAGE}:${Number(m[1]) + Number(m[2]) - 1}: ${m[3]}` : l;
      });
    assert.deepEqual(problems, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
