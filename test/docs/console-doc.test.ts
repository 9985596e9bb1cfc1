// docs/console.md shows every page of the console: each page the console lists has a picture in
// docs/console/ that the page embeds, and the sign-in section names the token flags it tells of.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { createCli } from '../../src/cli/program.ts';
import { registerServe } from '../../src/cli/serve.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const doc = readFileSync(join(ROOT, 'docs/console.md'), 'utf8');
const pages = [
  ...readFileSync(join(ROOT, 'console/src/pages/index.ts'), 'utf8').matchAll(/id: '([\w-]+)'/g),
].map((m) => m[1]!);

test('docs/console.md: a picture of every console page, embedded and present', () => {
  assert.ok(pages.length >= 10, `pages found: ${pages}`);
  for (const id of pages) {
    const picture = `console/${id}.png`;
    assert.ok(doc.includes(`](${picture})`), `docs/console.md embeds ${picture}`);
    assert.ok(existsSync(join(ROOT, 'docs', picture)), `docs/${picture} exists`);
  }
  for (const extra of ['sign-in', 'run', 'chat-approval', 'down']) {
    assert.ok(existsSync(join(ROOT, 'docs/console', `${extra}.png`)), `docs/console/${extra}.png exists`);
  }
});

test('docs/console.md: the sign-in section names serve flags that exist', () => {
  const silent = { stdout() {}, stderr() {}, readStdin: async () => '', onInterrupt: () => () => {} };
  const cli = createCli({ io: silent, extraCommands: [registerServe] }).program;
  const serve = cli.commands.find((c) => c.name() === 'serve')!;
  const flags = new Set(serve.options.map((o) => o.long));
  const named = [...doc.matchAll(/`(--http-[\w-]+)`/g)];
  assert.ok(named.length >= 2, 'the sign-in section names the token flags');
  for (const flag of named) assert.ok(flags.has(flag[1]!), `serve has ${flag[1]}`);
  assert.match(doc, /sessionStorage/);
});
