// docs/quickstart.md and the "Live routes and MCP servers" section of docs/runtime.md, followed as
// written: `up` prints the line the page shows, and every CLI line of both pages runs against it.
// Two substitutions only: a free port for `up` (4000 may be taken), and the local copy of
// server-everything instead of `npx` fetching it. `runs submit` would call the real provider, so
// the page's key is a dummy and that line is only checked to name the route's session.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { BIN, tempDir } from '../helpers/daemon.ts';
import { EVERYTHING, freePort, NODE } from '../helpers/mcp.ts';
import { shellWords } from './markdown.ts';

const read = (page: string) => readFileSync(resolve(import.meta.dirname, '../../docs', page), 'utf8');
const blocks = (text: string, lang: string) =>
  [...text.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) =>
    m[1]!.trimEnd().split('\n'),
  );

test('docs/quickstart.md and docs/runtime.md: the up path and live routes run as written', async () => {
  const quick = read('quickstart.md');
  const runtime = read('runtime.md').split('## Live routes and MCP servers')[1]!;
  assert.ok(runtime, 'docs/runtime.md has the live routes section');
  const dir = tempDir('kheish-up-doc-');
  const port = await freePort();
  const [upLine] = blocks(quick, 'sh')[0]!;
  const env: NodeJS.ProcessEnv = { ...process.env, OPENAI_API_KEY: 'sk-doc-dummy', HOME: dir };
  delete env.KHEISH_AUTH_STORE_MASTER_KEY;
  delete env.KHEISH_AUTH_STORE_MASTER_KEY_FILE;
  const proc = spawn(
    BIN,
    [...shellWords(upLine!).slice(1), '--bind', `127.0.0.1:${port}`, '--mcp-discovery', 'disabled'],
    {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  try {
    const line = await new Promise<string>((ok, fail) => {
      let out = '';
      const timer = setTimeout(() => fail(new Error(`no ready line: ${out}`)), 20_000);
      proc.stdout!.on('data', (d) => {
        out += d;
        if (out.includes('\n')) {
          clearTimeout(timer);
          ok(out.split('\n')[0]!);
        }
      });
    });
    assert.equal(line, blocks(quick, 'text')[0]![0]!.replace('4000', String(port)));
    const base = `http://127.0.0.1:${port}`;
    const run = (cmd: string) => {
      let args = shellWords(cmd).slice(1);
      if (args[0] === 'mcp' && args[1] === 'add')
        args = [...args.slice(0, 3), '--command', NODE, '--arg', EVERYTHING, '--arg', 'stdio'];
      const out = spawnSync(BIN, ['--base-url', base, ...args], { encoding: 'utf8', env, timeout: 60_000 });
      assert.equal(out.status, 0, `${cmd}: ${out.stdout}${out.stderr}`);
      return out.stdout;
    };
    const [connect, tool] = blocks(quick, 'sh').slice(1);
    run(connect![0]!);
    assert.match(run(connect![1]!), /openai/);
    assert.match(connect![2]!, /runs submit demo/);
    for (const cmd of tool!) run(cmd);
    for (const cmd of blocks(runtime, 'sh').flat()) run(cmd);
    const status = spawnSync(BIN, ['--base-url', base, '--output', 'json', 'status'], {
      encoding: 'utf8',
      env,
    });
    assert.equal(JSON.parse(status.stdout).onboarding, false, 'the route added from the page is still there');
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.on('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
});
