// A file-backed external connector (`[[external_connectors]]` in --connectors-config) in
// child_process mode: the daemon launches its sidecar at start, the sidecar's events become runs,
// and stopping the daemon signals the child's process group (nothing is left running).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { http, startDaemon } from '../helpers/daemon.ts';
import {
  childSidecarConnectorsFile,
  eventually,
  freePort,
  SidecarClient,
} from '../helpers/external-sidecar.ts';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('a file-backed child_process connector starts with the daemon and stops with it', async () => {
  const port = await freePort();
  const file = childSidecarConnectorsFile({ name: 'from-file', port, sharedTokenEnv: 'EXT_FILE_SHARED' });
  const d = await startDaemon({
    script: { default: { turns: [{ text: 'file-backed answer' }] } },
    args: ['--connectors-config', file],
    env: { EXT_FILE_SHARED: 'file-shared-token-value' },
  });
  try {
    const child = await eventually(async () => {
      const c = ((await http(d.url, 'GET', '/v1/runtime/external-connectors')).body.children as any[]).find(
        (x) => x.connector === 'from-file',
      );
      return c?.state === 'ready' ? c : undefined;
    }, 'the file-backed child ready');
    const view = (await http(d.url, 'GET', '/v1/runtime/connectors/external/from-file')).body;
    assert.equal(view.source, 'file');
    assert.deepEqual(view.shared_token, {
      configured: true,
      source: 'env',
      secret_ref: null,
      env: 'EXT_FILE_SHARED',
    });
    const sidecar = new SidecarClient(`http://127.0.0.1:${port}`);
    const ev = await sidecar.emit({ event_id: 'f-1', routing_key: 'file', content: 'hi', reply_route: 'fr' });
    assert.equal(ev.body.status, 'accepted', JSON.stringify(ev));
    await eventually(
      async () => (await sidecar.state()).committed.some((c) => c.reply_route === 'fr'),
      'delivered',
    );
    assert.equal(await d.stop(), 0);
    await eventually(async () => !alive(child.pid), 'the child stopped with the daemon', 10_000);
    assert.ok(!d.logs().includes('file-shared-token-value'));
  } finally {
    if (d.proc.exitCode === null) await d.kill();
    await d.cleanup();
  }
});
