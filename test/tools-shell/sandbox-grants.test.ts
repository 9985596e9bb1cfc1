// What the engine grants a bash call through ToolContext.sandbox: network only with an explicit
// `bash:network` rule, and a read-only workspace when ToolRuntimeLimits.max_sandbox is read_only.
// Real bubblewrap; skipped where it cannot run (CI installs it).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createBashTool } from '../../src/tools/shell/bash-tool.ts';
import { sandboxStatus } from '../../src/tools/shell/sandbox.ts';
import { tempWorkspace, toolCtx } from './helpers.ts';

const status = sandboxStatus();
const skip = status.available ? false : `bwrap unavailable: ${status.reason}`;

let server: net.Server;
let port = 0;
before(async () => {
  server = net.createServer((s) => s.end('hello\n'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as net.AddressInfo).port;
});
after(() => server.close());

async function bash(
  command: string,
  root: string,
  sandbox?: { network: boolean; workspace_writable: boolean },
) {
  const tool = createBashTool({ sandbox: sandbox?.workspace_writable === false ? 'auto' : 'require' });
  const r = await tool.execute({ command }, { ...toolCtx(root), sandbox });
  return r;
}

// bash's /dev/tcp needs no extra binary: it connects from inside the sandbox's network namespace.
const connect = () => `exec 3<>/dev/tcp/127.0.0.1/${port} && head -n1 <&3`;

test('bash: no network inside the sandbox without a grant', { skip }, async () => {
  const ws = tempWorkspace();
  try {
    const out = JSON.parse(
      (await bash(connect(), ws.root, { network: false, workspace_writable: true })).content,
    );
    assert.notEqual(out.exit_code, 0, 'the loopback server is unreachable');
    assert.equal(out.sandboxed, true);
  } finally {
    ws.cleanup();
  }
});

test('bash: a network grant shares the host network with the sandbox', { skip }, async () => {
  const ws = tempWorkspace();
  try {
    const out = JSON.parse(
      (await bash(connect(), ws.root, { network: true, workspace_writable: true })).content,
    );
    assert.equal(out.exit_code, 0, out.stderr);
    assert.equal(out.stdout.trim(), 'hello');
  } finally {
    ws.cleanup();
  }
});

test('bash: max_sandbox read_only mounts the workspace read-only', { skip }, async () => {
  const ws = tempWorkspace();
  try {
    const out = JSON.parse(
      (await bash('echo x > made.txt', ws.root, { network: false, workspace_writable: false })).content,
    );
    assert.notEqual(out.exit_code, 0);
    assert.match(out.stderr, /Read-only file system/i);
    assert.equal(existsSync(path.join(ws.root, 'made.txt')), false);
  } finally {
    ws.cleanup();
  }
});

test('bash: read_only without a working sandbox is refused instead of running unconfined', async () => {
  const ws = tempWorkspace();
  try {
    const tool = createBashTool({ sandbox: 'off' });
    const r = await tool.execute(
      { command: 'echo x > made.txt' },
      { ...toolCtx(ws.root), sandbox: { network: false, workspace_writable: false } },
    );
    assert.equal(r.is_error, true);
    assert.match(r.content, /read_only/);
    assert.equal(existsSync(path.join(ws.root, 'made.txt')), false);
  } finally {
    ws.cleanup();
  }
});
