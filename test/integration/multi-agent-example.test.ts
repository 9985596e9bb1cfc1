// Runs the worked example of docs/multi-agent.md exactly as written: its routes file, its script
// and its commands (the CLI in-process against a real daemon). A coordinator spawns two workers,
// each writes a file, the coordinator waits for both and sums up.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { createCli } from '../../src/cli/program.ts';
import type { CliIo } from '../../src/cli/runtime.ts';
import { http, startDaemon, tempDir } from '../helpers/daemon.ts';

const DOC = readFileSync(resolve(import.meta.dirname, '../../docs/multi-agent.md'), 'utf8');

/** The fenced block right after `<!-- example: name -->`. */
function example(name: string): string {
  const m = new RegExp(`<!-- example: ${name} -->\\n\`\`\`[a-z]*\\n([\\s\\S]*?)\\n\`\`\``).exec(DOC);
  assert.ok(m, `docs/multi-agent.md has the ${name} block`);
  return m[1]!;
}

/** Shell-like words: spaces separate, double quotes group. */
const words = (line: string) => [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);

async function cli(baseUrl: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = {
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
    readStdin: async () => '',
    onInterrupt: () => () => undefined,
  };
  const code = await createCli({ io }).run(['node', 'kheish-daemon', '--base-url', baseUrl, ...args]);
  return { code, out, err };
}

test('docs/multi-agent.md: a coordinator spawns two workers, each writes a file, it waits for both and emits a summary', async () => {
  const dir = tempDir('kheish-example-');
  writeFileSync(join(dir, 'routes.toml'), example('routes.toml'));
  writeFileSync(join(dir, 'script.json'), example('script.json'));
  const script = JSON.parse(example('script.json'));
  const commands = example('commands').split('\n');
  const serve = words(commands[0]!.replace(/ &$/, ''));
  assert.deepEqual(serve.slice(0, 2), ['kheish-daemon', 'serve']);
  // The documented serve flags, with the example's relative paths anchored in the temp dir.
  const args = serve.slice(2).map((a) => (a.endsWith('.toml') || a === 'work' ? join(dir, a) : a));
  mkdirSync(join(dir, 'work'));
  const d = await startDaemon({ args });
  try {
    const outputs: string[] = [];
    for (const line of commands.slice(1)) {
      const argv = words(line);
      if (argv[0] === 'cat') {
        outputs.push(
          argv
            .slice(1)
            .map((p) => readFileSync(join(dir, p), 'utf8'))
            .join(''),
        );
        continue;
      }
      assert.equal(argv[0], 'kheish-daemon', line);
      const res = await cli(d.url, argv.slice(1));
      assert.equal(res.code, 0, `${line}\n${res.out}${res.err}`);
      outputs.push(res.out);
    }
    const [, submitted, tree, files] = outputs;
    const summary = script.rules[0].turns.at(-1).text as string;
    assert.match(submitted!, /status:\s+completed/);
    assert.ok(submitted!.includes(summary), submitted);
    assert.equal(files, 'written by worker A\nwritten by worker B\n');

    const lines = tree!.trimEnd().split('\n');
    assert.equal(lines.length, 3, tree);
    assert.match(lines[0]!, /^coordinator agent-\S+ \[idle\]$/);
    assert.match(lines[1]!, /^ {2}└─ worker-a agent-\S+ \[completed\] \(default, acceptEdits\)$/);
    assert.match(lines[2]!, /^ {2}└─ worker-b agent-\S+ \[completed\] \(default, acceptEdits\)$/);

    // The same through the API: parent links, and both outcomes consumed by wait_agent.
    const coordinator = (await http(d.url, 'GET', '/v1/sessions/coordinator')).body.agent_id;
    const root = (await http(d.url, 'GET', `/v1/agents/${coordinator}`)).body;
    assert.equal(root.children.length, 2);
    for (const id of root.children) {
      const child = (await http(d.url, 'GET', `/v1/agents/${id}`)).body;
      assert.equal(child.parent_agent_id, coordinator);
      assert.equal(child.status, 'completed');
    }
    assert.deepEqual((await http(d.url, 'GET', `/v1/agents/${coordinator}/mailbox`)).body, []);
    const runs = (await http(d.url, 'GET', '/v1/runs?session_id=coordinator')).body as any[];
    assert.deepEqual(
      runs.map((r) => r.kind),
      ['input'],
      'no mailbox delivery woke the coordinator again',
    );
  } finally {
    await d.kill();
    d.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
