// Files both ways through an external connector (api-collab §6.8): an event's inline attachment
// is stored as an asset and reaches the run as a reference; an answer's artifact goes to the
// sidecar as a descriptor whose download_path serves the bytes with the shared token while the
// delivery is pending, and nothing once it is settled or for any other asset. Runs on the store
// KHEISH_TEST_STORE picks.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { BIN, http, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { eventually, type RemoteSidecar, startRemoteSidecar } from '../helpers/external-sidecar.ts';

const KEY = spawnSync(BIN, ['secrets', 'generate'], { encoding: 'utf8' }).stdout.trim();
const SHARED = `shared-${Math.random().toString(36).slice(2)}-files`;
const REPORT = Buffer.from('quarterly report\nall green\n');
let d: TestDaemon;
let sidecar: RemoteSidecar;
let assetId: string;

const get = (path: string, token: string | null = SHARED) =>
  http(d.url, 'GET', path, undefined, token === null ? {} : { authorization: `Bearer ${token}` });

before(async () => {
  d = await startDaemon({
    script: { default: { turns: [{ text: 'ok' }] } },
    env: {
      KHEISH_AUTH_STORE_MASTER_KEY: KEY,
      KHEISH_DELIVERY_INITIAL_RETRY_MS: '100',
      KHEISH_DELIVERY_MAX_RETRY_MS: '300',
    },
  });
  const up = await http(d.url, 'POST', '/v1/assets', {
    file_name: 'report.txt',
    media_type: 'text/plain',
    content_base64: REPORT.toString('base64'),
  });
  assert.ok(up.status === 200 || up.status === 201, up.text);
  assetId = up.body.asset_id;
  // The script is read at start: the answer publishing that asset needs its id, so restart.
  const routes = d.proc.spawnargs[d.proc.spawnargs.indexOf('--routes-file') + 1]!;
  writeFileSync(
    join(dirname(routes), 'script.json'),
    JSON.stringify({
      rules: [
        {
          match: 'send the report',
          turns: [
            {
              tool_calls: [
                { name: 'emit_output', arguments: { content: 'here it is', artifact_ids: [assetId] } },
              ],
            },
            { text: 'sent' },
          ],
        },
      ],
      default: { turns: [{ text: 'ok' }] },
    }),
  );
  await d.stop();
  d = await d.restart();
  sidecar = await startRemoteSidecar({ daemonUrl: d.url, connector: 'files', sharedToken: SHARED });
  const put = await http(d.url, 'PUT', '/v1/runtime/connectors/external/files', {
    base_url: sidecar.url,
    allow_private_network: true,
    shared_token: { value: SHARED },
    include_self_output: true,
    session_policy: { create_if_missing: true },
  });
  assert.equal(put.status, 200, put.text);
});

after(async () => {
  await sidecar?.stop();
  await d?.stop();
  await d?.cleanup();
});

test('an inline attachment of an event is stored as an asset and reaches the run as a reference', async () => {
  const bytes = Buffer.from('attached by the sidecar\n');
  const ev = await sidecar.emit({
    event_id: 'with-file',
    routing_key: 'inbox',
    content: 'see the attached file',
    attachments: [
      {
        type: 'inline_asset',
        file_name: 'note.txt',
        media_type: 'text/plain',
        content_base64: bytes.toString('base64'),
      },
    ],
  });
  assert.equal(ev.body.status, 'accepted', JSON.stringify(ev));
  const run = (await http(d.url, 'GET', `/v1/runs/${ev.body.run_id}`)).body;
  const ref = run.input_attachments[0];
  assert.equal(ref.type, 'asset_reference', JSON.stringify(run.input_attachments));
  assert.equal((await http(d.url, 'GET', `/v1/assets/${ref.asset_id}/raw`)).text, bytes.toString());
});

test('an answer artifact is downloadable by the sidecar while its delivery is pending, and only then', async () => {
  const ev = await sidecar.emit({
    event_id: 'report',
    routing_key: 'reports',
    content: 'send the report',
    reply_route: 'rep',
  });
  assert.equal(ev.body.status, 'accepted', JSON.stringify(ev));
  const attempt = await eventually(async () => {
    const s = await sidecar.state();
    return s.attempts.find((a) => a.body.reply_route === 'rep' && a.body.artifacts?.length);
  }, 'the delivery with the artifact');
  const art = attempt.body.artifacts[0];
  assert.equal(art.asset_id, assetId);
  assert.equal(art.file_name, 'report.txt');
  assert.equal(
    art.download_path,
    `/v1/connectors/external/files/deliveries/${attempt.delivery_id}/assets/${assetId}/raw`,
  );
  // The sidecar fetched it during /deliver, with the shared token.
  assert.deepEqual(attempt.downloads, [{ asset_id: assetId, status: 200, bytes: REPORT.length }]);
  await eventually(
    async () => (await sidecar.state()).committed.some((c) => c.delivery_id === attempt.delivery_id),
    'committed',
  );
  // Settled: the same path is gone; another asset or delivery never was there.
  await eventually(async () => (await get(art.download_path)).status === 404, 'the path closed after commit');
  assert.equal(
    (await get(`/v1/connectors/external/files/deliveries/${attempt.delivery_id}/assets/asset-other/raw`))
      .status,
    404,
  );
  assert.equal((await get(art.download_path, null)).status, 401);
});
