// A channel member's rich answer (api-collab §1.12, api-core §10 emit_output): the attachment parts
// of the delivery run's emit_output record become the public message's attachments, and the
// channel holds a hard reference to the asset (so it cannot be deleted under the message).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { http, startDaemon, type TestDaemon, waitForRun } from '../helpers/daemon.ts';

const dir = mkdtempSync(join(tmpdir(), 'kheish-channel-rich-'));
const scriptPath = join(dir, 'script.json');
const routes = `version = 1\ndefault_route = "local"\n\n[routes.local]\ndriver = "scripted"\ndefault_model = "scripted"\nscript_file = "${scriptPath}"\n`;
const writeScript = (assetId: string | null) =>
  writeFileSync(
    scriptPath,
    JSON.stringify({
      rules: assetId
        ? [
            {
              match: 'You are Chartbot',
              turns: [
                {
                  tool_calls: [
                    {
                      name: 'emit_output',
                      arguments: {
                        content: 'Here is the chart.',
                        parts: [
                          { type: 'text', text: 'Here is the chart.' },
                          { type: 'asset', asset_id: assetId },
                        ],
                      },
                    },
                  ],
                },
                { text: 'done' },
              ],
            },
          ]
        : [],
      default: { turns: [{ text: 'NO_REPLY' }] },
    }),
  );

let d: TestDaemon | undefined;
after(async () => {
  await d?.kill();
  await d?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

test('api-collab §1.12: an emit_output attachment of a channel_delivery run is posted with the public reply', async () => {
  writeScript(null);
  d = await startDaemon({ routesToml: routes });
  const bytes = Buffer.from('week,count\n1,4\n2,9\n');
  const up = await http(d.url, 'POST', '/v1/assets', {
    file_name: 'chart.csv',
    media_type: 'text/csv',
    content_base64: bytes.toString('base64'),
  });
  assert.ok(up.status < 300, up.text);
  const assetId = up.body.asset_id as string;
  // The scripted route reads its script at start: restart with the rule that names the asset.
  writeScript(assetId);
  await d.kill();
  d = await d.restart();

  assert.equal((await http(d.url, 'POST', '/v1/sessions', { session_id: 'chartbot' })).status < 300, true);
  const created = await http(d.url, 'POST', '/v1/channels', {
    channel_id: 'metrics',
    title: 'Metrics',
    members: [
      { member_id: 'alice', member_kind: 'human_actor', display_name: 'Alice' },
      { member_id: 'chartbot', member_kind: 'session', display_name: 'Chartbot' },
    ],
  });
  assert.equal(created.status, 201, created.text);
  const asked = await http(d.url, 'POST', '/v1/channels/metrics/messages', {
    sender_actor_id: 'alice',
    content: 'chart the weekly counts please',
  });
  assert.equal(asked.status, 201, asked.text);
  const root = asked.body.message_id as string;

  let run: any;
  for (let i = 0; i < 300 && !run; i++) {
    const runs = (await http(d.url, 'GET', '/v1/runs?session_id=chartbot')).body;
    run = (Array.isArray(runs) ? runs : (runs.items ?? [])).find((r: any) => r.kind === 'channel_delivery');
    if (!run) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(run, 'a channel_delivery run was created');
  assert.equal((await waitForRun(d.url, run.run_id)).status, 'completed');

  let reply: any;
  for (let i = 0; i < 200 && !reply; i++) {
    const messages = (
      await http(d.url, 'GET', `/v1/channels/metrics/messages?thread_root_message_id=${root}`)
    ).body.messages;
    reply = messages.find((m: any) => m.sender.member_id === 'chartbot');
    if (!reply) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(reply, 'the member posted its answer');
  assert.equal(reply.output.content, 'Here is the chart.');
  assert.deepEqual(reply.output.parts, [
    { type: 'text', text: 'Here is the chart.' },
    { type: 'asset', asset_id: assetId, file_name: 'chart.csv', media_type: 'text/csv' },
  ]);
  const graph = (await http(d.url, 'GET', `/v1/assets/${assetId}/references`)).body;
  assert.ok(
    graph.references.some((r: any) => r.domain === 'channels' && r.owner_id === 'metrics' && r.hard),
    JSON.stringify(graph),
  );
});
