// Real isolation checks, run only where bubblewrap works (CI installs it). The unsandboxed
// path is covered in bash.test.ts with the sandbox forced off.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ShellToolOptions } from '../../src/tools/shell/bash-tool.ts';
import { createBashTool } from '../../src/tools/shell/bash-tool.ts';
import { bwrapArgs, probeSandbox, sandboxStatus } from '../../src/tools/shell/sandbox.ts';
import { killLeftovers, marker, tempWorkspace, toolCtx, waitGone } from './helpers.ts';

const status = sandboxStatus();
const skip = status.available ? false : `bwrap unavailable: ${status.reason}`;

async function run(command: string, root: string, opts: ShellToolOptions = {}) {
  const r = await createBashTool({ sandbox: 'require', ...opts }).execute({ command }, toolCtx(root));
  assert.ok(r.content.startsWith('{'), r.content);
  return JSON.parse(r.content) as Record<string, any>;
}

test('sandboxStatus: reports availability, the binary, and a reason when unavailable', () => {
  assert.equal(typeof status.available, 'boolean');
  if (status.available) assert.match(status.binary ?? '', /bwrap$/);
  else assert.ok(status.reason);
  const missing = probeSandbox('/nonexistent/bwrap');
  assert.equal(missing.available, false);
  assert.match(missing.reason!, /could not be started/);
  const broken = probeSandbox('/bin/false');
  assert.equal(broken.available, false);
  assert.match(broken.reason!, /cannot create a sandbox on this host/);
});

test('bwrapArgs: workspace bound read-write after masks that contain it, before masks inside it', () => {
  const ws = tempWorkspace();
  try {
    mkdirSync(path.join(ws.root, '.state'));
    const args = bwrapArgs({
      workspace: ws.root,
      workdir: ws.root,
      allowNetwork: false,
      hiddenPaths: [ws.base, path.join(ws.root, '.state'), '/nonexistent-dir'],
    });
    const at = (flag: string, value: string) => args.findIndex((a, i) => a === flag && args[i + 1] === value);
    assert.ok(at('--tmpfs', ws.base) < at('--bind', ws.root));
    assert.ok(at('--bind', ws.root) < at('--tmpfs', path.join(ws.root, '.state')));
    assert.equal(at('--tmpfs', '/nonexistent-dir'), -1);
    assert.ok(args.includes('--unshare-all') && !args.includes('--share-net'));
    assert.ok(args.includes('--die-with-parent'));
    assert.ok(
      bwrapArgs({ workspace: ws.root, workdir: ws.root, allowNetwork: true }).includes('--share-net'),
    );
  } finally {
    ws.cleanup();
  }
});

test('sandbox: the workspace is writable from inside', { skip }, async () => {
  const ws = tempWorkspace();
  try {
    const out = await run('echo written > out.txt && mkdir -p a/b && echo deep > a/b/c.txt', ws.root);
    assert.equal(out.exit_code, 0, out.stderr);
    assert.equal(out.sandboxed, true);
    assert.ok(existsSync(path.join(ws.root, 'out.txt')));
    assert.ok(existsSync(path.join(ws.root, 'a/b/c.txt')));
  } finally {
    ws.cleanup();
  }
});

test('sandbox: writes outside the workspace fail or never reach the host', { skip }, async () => {
  const ws = tempWorkspace();
  const probe = `kheish-sandbox-probe-${process.pid}`;
  try {
    // Running as root does not help: the root filesystem is a read-only mount, capabilities dropped.
    const etc = await run(`touch /etc/${probe}`, ws.root);
    assert.notEqual(etc.exit_code, 0);
    assert.match(etc.stderr, /Read-only file system/);
    assert.equal(existsSync(`/etc/${probe}`), false);
    const remount = await run('mount -o remount,rw / 2>&1; touch /usr/' + probe, ws.root);
    assert.notEqual(remount.exit_code, 0);
    assert.equal(existsSync(`/usr/${probe}`), false);
    // The workspace's parent directory on the host is not reachable (private /tmp inside).
    const sibling = await run(`echo x > ${ws.base}/escaped.txt; echo x > /tmp/${probe}`, ws.root);
    assert.equal(sibling.exit_code, 0, 'writes land in the private scratch /tmp');
    assert.equal(existsSync(path.join(ws.base, 'escaped.txt')), false);
    assert.equal(existsSync(`/tmp/${probe}`), false);
  } finally {
    ws.cleanup();
  }
});

test('sandbox: host /tmp is not visible and hidden paths are masked', { skip }, async () => {
  const ws = tempWorkspace();
  try {
    writeFileSync(path.join(ws.base, 'host-secret.txt'), 'secret');
    mkdirSync(path.join(ws.root, '.state'));
    writeFileSync(path.join(ws.root, '.state', 'key'), 'master-key');
    const here = path.dirname(fileURLToPath(import.meta.url)); // a host dir outside /tmp
    const out = await run(
      `test -e ${ws.base}/host-secret.txt && echo visible; cat .state/key; ls -A ${here} | wc -l`,
      ws.root,
      { hiddenPaths: [path.join(ws.root, '.state'), here] },
    );
    assert.doesNotMatch(out.stdout, /visible|master-key/);
    assert.equal(out.stdout.trim(), '0', 'the masked directory looks empty');
    assert.ok(readdirSync(here).length > 0, 'the host directory itself is untouched');
  } finally {
    ws.cleanup();
  }
});

test('sandbox: network is unreachable unless allowNetwork is set', { skip }, async () => {
  const ws = tempWorkspace();
  let connections = 0;
  const server = net.createServer((s) => {
    connections++;
    s.end('hello\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const dial = `exec 3<>/dev/tcp/127.0.0.1/${port} && head -n1 <&3`;
  try {
    const isolated = await run(dial, ws.root);
    assert.notEqual(isolated.exit_code, 0);
    assert.equal(isolated.network, false);
    assert.match(isolated.stderr, /Connection refused|Network is unreachable|Cannot assign/);
    const external = await run('exec 3<>/dev/tcp/1.1.1.1/80', ws.root, { defaultTimeoutMs: 5000 });
    assert.notEqual(external.exit_code, 0);
    assert.equal(connections, 0, "the host's loopback service was never reached");
    const allowed = await run(dial, ws.root, { allowNetwork: true });
    assert.equal(allowed.exit_code, 0, allowed.stderr);
    assert.equal(allowed.stdout, 'hello\n');
    assert.equal(allowed.network, true);
    assert.equal(connections, 1);
  } finally {
    server.close();
    ws.cleanup();
  }
});

test('sandbox: cancelling right after the start (during sandbox setup) leaves nothing behind', {
  skip,
}, async () => {
  const ws = tempWorkspace();
  const m = marker();
  try {
    for (const delay of [0, 5, 30]) {
      const ac = new AbortController();
      const call = createBashTool({ sandbox: 'require' }).execute(
        { command: `sleep ${m} & sleep ${m}` },
        toolCtx(ws.root, ac.signal),
      );
      setTimeout(() => ac.abort(new Error('cancelled early')), delay);
      await assert.rejects(call, /cancelled early/);
      assert.deepEqual(await waitGone(m), [], `delay ${delay}`);
    }
  } finally {
    killLeftovers(m);
    ws.cleanup();
  }
});
