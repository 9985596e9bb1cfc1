// One spelling per permission mode in what the CLI prints: the wire identifiers (`acceptEdits`,
// `bypassPermissions`, `dontAsk`), as in every API answer and in `--output json`. The kebab-case
// forms (`accept-edits`, …) are accepted as input only (ops-runtime §6.1).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createCli } from '../../src/cli/program.ts';
import { http, startDaemon, type TestDaemon } from '../helpers/daemon.ts';

let d: TestDaemon;
before(async () => {
  d = await startDaemon();
});
after(async () => {
  await d.kill();
  await d.cleanup();
});

async function cli(...args: string[]): Promise<string> {
  let out = '';
  let err = '';
  const io = {
    stdout: (t: string) => {
      out += t;
    },
    stderr: (t: string) => {
      err += t;
    },
    readStdin: async () => '',
    onInterrupt: () => () => {},
  };
  const code = await createCli({ io }).run(['node', 'kheish-daemon', '--base-url', d.url, ...args]);
  assert.equal(code, 0, `${args.join(' ')}: ${err}`);
  return out;
}

const KEBAB = /accept-edits|bypass-permissions|dont-ask/i;

test('the CLI prints permission modes as the API spells them; kebab-case is input only', async () => {
  const set = await cli('runtime', 'set-permission-mode', 'accept-edits');
  assert.match(set, /permission mode: acceptEdits\b/);
  const runtime = await cli('runtime', 'get');
  assert.match(runtime, /acceptEdits/);
  const check = await cli('runtime', 'permissions', 'check', 'bash', '--mode', 'dont-ask');
  assert.match(check, /dontAsk/);
  const matrix = await cli('runtime', 'permissions', 'matrix');
  for (const mode of ['default', 'acceptEdits', 'bypassPermissions', 'plan', 'dontAsk'])
    assert.ok(matrix.split('\n')[0]!.includes(mode), `matrix header names ${mode}: ${matrix.split('\n')[0]}`);
  for (const [name, out] of Object.entries({ set, runtime, check, matrix }))
    assert.doesNotMatch(out, KEBAB, `${name} prints a kebab-case mode:\n${out}`);

  // The API and --output json say the same.
  assert.equal((await http(d.url, 'GET', '/v1/runtime')).body.permission_mode, 'acceptEdits');
  assert.equal(JSON.parse(await cli('--output', 'json', 'runtime', 'get')).permission_mode, 'acceptEdits');

  // A session's primary agent shows the mode it runs under the same way.
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'modes' });
  const agentId = (await http(d.url, 'GET', '/v1/sessions/modes')).body.agent_id as string;
  const agent = await cli('agents', 'get', agentId);
  assert.doesNotMatch(agent, KEBAB, agent);
  await cli('runtime', 'set-permission-mode', 'default');
});
