// The docs must work when pasted: every TOML snippet of README.md and docs/*.md parses (a routes
// file through the daemon's own validation), every JSON snippet parses, every `kheish-daemon …`
// line of a shell block names a command and flags the CLI has, and every relative link points at
// a file (and heading) of the project. Nothing runs against a daemon: the commands are checked
// against the commander program.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import type { Command, Option } from 'commander';
import { parse as parseToml } from 'smol-toml';
import { createCli } from '../../src/cli/program.ts';
import { registerServe } from '../../src/cli/serve.ts';
import { registerUp } from '../../src/cli/up.ts';
import { parseMcpConfigText } from '../../src/config/mcp-config.ts';
import { validateRoutes } from '../../src/config/routes-file.ts';
import {
  type Block,
  cliInvocations,
  fencedBlocks,
  headingSlugs,
  inlineInvocations,
  markdownLinks,
  shellWords,
} from './markdown.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const PAGES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];
const text = new Map(PAGES.map((p) => [p, readFileSync(join(ROOT, p), 'utf8')]));
const blocks: Block[] = PAGES.flatMap((p) => fencedBlocks(p, text.get(p)!));
const SHELL = new Set(['sh', 'bash', 'shell', 'console', 'zsh']);

test('docs: every TOML snippet parses; a routes file passes the routes-file validation', () => {
  const toml = blocks.filter((b) => b.lang === 'toml');
  assert.ok(toml.length > 0, 'the docs have TOML snippets');
  const problems: string[] = [];
  for (const b of toml) {
    let doc: Record<string, unknown>;
    try {
      doc = parseToml(b.body) as Record<string, unknown>;
    } catch (err) {
      problems.push(`${b.where}: not TOML: ${(err as Error).message.split('\n')[0]}`);
      continue;
    }
    if ('mcp_servers' in doc) {
      try {
        parseMcpConfigText(b.body, b.where);
      } catch (err) {
        problems.push(`${b.where}: not a valid MCP config: ${(err as Error).message}`);
      }
    }
    if ('routes' in doc || 'default_route' in doc) {
      try {
        validateRoutes(doc, join(ROOT, b.page));
      } catch (err) {
        problems.push(`${b.where}: not a valid routes file: ${(err as Error).message}`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

test('docs: every JSON snippet is one JSON document or JSON lines', () => {
  const problems: string[] = [];
  for (const b of blocks.filter((x) => x.lang === 'json')) {
    try {
      JSON.parse(b.body);
    } catch {
      const lines = b.body.split('\n').filter((l) => l.trim() !== '');
      lines.forEach((l, i) => {
        try {
          JSON.parse(l);
        } catch (err) {
          problems.push(`${b.where}: line ${i + 1}: ${(err as Error).message}`);
        }
      });
    }
  }
  assert.deepEqual(problems, []);
});

/** The commander tree with `serve`, built without touching the network or a daemon. */
function program(): Command {
  const silent = { stdout() {}, stderr() {}, readStdin: async () => '', onInterrupt: () => () => {} };
  return createCli({ io: silent, extraCommands: [registerServe, registerUp] }).program;
}

const takesValue = (o: Option) => o.required || o.optional;
const findOption = (cmds: Command[], flag: string): Option | undefined => {
  for (const c of cmds) {
    const o = c.options.find((x) => x.long === flag || x.short === flag);
    if (o) return o;
  }
  return undefined;
};
const subcommand = (cmd: Command, name: string) =>
  cmd.commands.find((c) => c.name() === name || c.aliases().includes(name));

/**
 * Checks one invocation (the words after `kheish-daemon`): the command path exists, every flag is
 * an option of that command or a global one, and the positional words fit its arguments. Words of
 * a synopsis (`[--limit N]`, `(--file F|--stdin)`, `<run_id>`) are read as the flags and values
 * they stand for.
 */
function checkInvocation(root: Command, words: string[]): string | null {
  const clean = words.map((w) => w.replace(/^[[(]+/, '').replace(/[\])]+$/, ''));
  let cmd = root;
  const path: Command[] = [root];
  const positionals: string[] = [];
  for (let i = 0; i < clean.length; i++) {
    const w = clean[i]!;
    if (w === '' || w === '|' || w === '…' || w === '...') continue;
    if (w.startsWith('-') && w !== '-') {
      for (const part of w.split('|')) {
        const flag = part.split('=')[0]!;
        if (!flag.startsWith('-')) continue;
        if (flag === '--help' || flag === '-h') continue;
        const o = findOption(path.slice().reverse(), flag);
        // The program's own --version (offered only without a sub-command); a command's is checked.
        if (flag === '--version' && !o) continue;
        if (!o) return `\`${flag}\` is not an option of \`${path.map((c) => c.name()).join(' ')}\``;
        if (takesValue(o) && !part.includes('=') && part === w) i++;
      }
      continue;
    }
    const sub = positionals.length === 0 ? subcommand(cmd, w) : undefined;
    if (sub) {
      cmd = sub;
      path.push(sub);
      continue;
    }
    positionals.push(w);
  }
  const name = path.map((c) => c.name()).join(' ');
  if (cmd === root) return 'no command';
  if (cmd.commands.length > 0 && positionals.length > 0 && !cmd.registeredArguments.length)
    return `\`${positionals[0]}\` is not a sub-command of \`${name}\` (${cmd.commands.map((c) => c.name()).join(', ')})`;
  if (cmd.commands.length > 0 && positionals.length === 0 && !hasAction(cmd))
    return `\`${name}\` needs a sub-command (${cmd.commands.map((c) => c.name()).join(', ')})`;
  const args = cmd.registeredArguments;
  const variadic = args.some((a) => a.variadic);
  if (!variadic && positionals.length > args.length)
    return `\`${name}\` takes ${args.length} argument(s), the example gives ${positionals.length}: ${positionals.join(' ')}`;
  const required = args.filter((a) => a.required).length;
  if (positionals.length < required)
    return `\`${name}\` needs ${required} argument(s), the example gives ${positionals.length}`;
  return null;
}

// Commander keeps the action handler private; a group without one only prints its help.
const hasAction = (cmd: Command) => (cmd as unknown as { _actionHandler: unknown })._actionHandler != null;

test('docs: every `kheish-daemon` line of a shell block (and inline example) names an existing command with existing flags', () => {
  const root = program();
  const problems: string[] = [];
  let checked = 0;
  for (const b of blocks.filter((x) => SHELL.has(x.lang))) {
    for (const inv of cliInvocations(b)) {
      checked++;
      const why = checkInvocation(root, shellWords(inv.args));
      if (why) problems.push(`${inv.where}: kheish-daemon ${inv.args}\n    ${why}`);
    }
  }
  // In running text `kheish-daemon` also names the program (`the kheish-daemon ready log line`):
  // a span is an example when its first word is a command or a global flag.
  for (const page of PAGES) {
    for (const inv of inlineInvocations(page, text.get(page)!)) {
      const words = shellWords(inv.args);
      if (!words[0]?.startsWith('--') && !subcommand(root, words[0] ?? '')) continue;
      checked++;
      const why = checkInvocation(root, words);
      if (why) problems.push(`${inv.where}: kheish-daemon ${inv.args}\n    ${why}`);
    }
  }
  assert.ok(checked > 20, `checked ${checked} command lines`);
  assert.deepEqual(problems, []);
});

test('docs: the command checker itself refuses unknown commands, flags and extra arguments', () => {
  const root = program();
  const check = (line: string) => checkInvocation(root, shellWords(line));
  assert.equal(check('runs submit demo "hello there" --watch'), null);
  assert.equal(check('--base-url http://127.0.0.1:4001 status'), null);
  assert.equal(check('tasks list <session_id> [--status pending|in-progress] [--page] [--limit N]'), null);
  assert.match(check('runs submitt demo hi') ?? '', /not a sub-command/);
  assert.match(check('runs submit demo hi --wacth') ?? '', /--wacth/);
  assert.match(check('sessions get a b c') ?? '', /takes 1 argument/);
  assert.match(check('runtime tool-limits') ?? '', /needs a sub-command/);
});

test('docs: every relative link points at a file of the project, and its #anchor at a heading', () => {
  const problems: string[] = [];
  for (const page of PAGES) {
    for (const link of markdownLinks(text.get(page)!)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(link.target)) continue; // http:, https:, mailto:
      const [file, anchor] = link.target.split('#') as [string, string | undefined];
      const target = file === '' ? join(ROOT, page) : resolve(dirname(join(ROOT, page)), file);
      const where = `${page}:${link.line} (${link.target})`;
      if (relative(ROOT, target).startsWith('..')) {
        problems.push(`${where}: outside the project`);
        continue;
      }
      if (!existsSync(target)) {
        problems.push(`${where}: no such file`);
        continue;
      }
      if (anchor && target.endsWith('.md') && !headingSlugs(readFileSync(target, 'utf8')).has(anchor))
        problems.push(`${where}: no heading #${anchor}`);
    }
  }
  assert.deepEqual(problems, []);
});
