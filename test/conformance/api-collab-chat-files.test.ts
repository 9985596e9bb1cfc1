// Files through the Slack and Telegram connectors (api-collab §6.5, §6.6): inbound files fetched
// only for authenticated, new, in-rate events, only from allowed hosts and without redirects, kept
// as assets the run's input points at; outbound attachments (emit_output artifacts) through Slack's
// external upload APIs and Telegram's sendPhoto/sendDocument, with step progress so a retry never
// repeats a finished step. Runs on SQLite, and on PostgreSQL with KHEISH_TEST_STORE=postgres.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { SlackApiFixture, slackMessageEvent } from '../fixtures/chat/slack-api-server.ts';
import { TelegramApiFixture, telegramMessage } from '../fixtures/chat/telegram-api-server.ts';
import {
  eventually,
  putConnector,
  SLACK_SECRET,
  SLACK_TOKEN,
  slackPost,
  TELEGRAM_SECRET,
  TELEGRAM_TOKEN,
  telegramPost,
} from '../helpers/chat-connectors.ts';
import { http, startDaemon, type TestDaemon, waitForRun } from '../helpers/daemon.ts';

let d: TestDaemon;
let slack: SlackApiFixture;
let tg: TelegramApiFixture;
let png: Buffer;
let jpeg: Buffer;
const ids: Record<string, string> = {};
const TEXT = Buffer.from('quarterly numbers: 42\n');

const upload = async (file_name: string, media_type: string, bytes: Buffer) => {
  const r = await http(d.url, 'POST', '/v1/assets', {
    file_name,
    media_type,
    content_base64: bytes.toString('base64'),
  });
  assert.ok(r.status === 200 || r.status === 201, r.text);
  return r.body.asset_id as string;
};

before(async () => {
  const sharp = (await import('sharp')).default;
  png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#3366ff' } })
    .png()
    .toBuffer();
  // Telegram re-encodes every photo as JPEG.
  jpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#ff6633' } })
    .jpeg()
    .toBuffer();
  slack = await new SlackApiFixture([SLACK_TOKEN]).start();
  tg = await new TelegramApiFixture(TELEGRAM_TOKEN).start();
  const env = {
    T_SLACK_SECRET: SLACK_SECRET,
    T_SLACK_TOKEN: SLACK_TOKEN,
    T_TG_TOKEN: TELEGRAM_TOKEN,
    T_TG_SECRET: TELEGRAM_SECRET,
    KHEISH_DELIVERY_INITIAL_RETRY_MS: '50',
    KHEISH_DELIVERY_MAX_RETRY_MS: '200',
  };
  d = await startDaemon({ script: { default: { turns: [{ text: 'ok' }] } }, env });
  ids.report = await upload('report.txt', 'text/plain', TEXT);
  ids.chart = await upload('chart.png', 'image/png', png);
  // The script names the assets: written now, read by the restarted daemon.
  const args = d.proc.spawnargs;
  const routes = args[args.indexOf('--routes-file') + 1]!;
  const emit = (content: string, artifacts: string[]) => [
    { tool_calls: [{ name: 'emit_output', arguments: { content, artifact_ids: artifacts } }] },
    { text: 'done' },
  ];
  writeFileSync(
    join(dirname(routes), 'script.json'),
    JSON.stringify({
      rules: [
        { match: 'send the report', turns: emit('see attached', [ids.report!]) },
        { match: 'send both', turns: emit('two files', [ids.chart!, ids.report!]) },
        { match: 'essay', turns: [{ text: `${'line of text\n'.repeat(800)}end` }] },
      ],
      default: { turns: [{ text: 'ok' }] },
    }),
  );
  await d.kill();
  d = await d.restart();
  const slackBase = {
    signing_secret: { env: 'T_SLACK_SECRET' },
    bot_token: { env: 'T_SLACK_TOKEN' },
    api_base_url: slack.apiBaseUrl,
    session_policy: { create_if_missing: true },
  };
  await putConnector(d.url, 'slack', 'files', slackBase);
  await putConnector(d.url, 'slack', 'open', {
    ...slackBase,
    signing_secret: null,
    allow_unauthenticated_ingress: true,
  });
  await putConnector(d.url, 'slack', 'tight', { ...slackBase, ingress_events_per_second: 1 });
  await putConnector(d.url, 'telegram', 'files', {
    bot_token: { env: 'T_TG_TOKEN' },
    secret_token: { env: 'T_TG_SECRET' },
    api_base_url: tg.apiBaseUrl,
    session_policy: { create_if_missing: true },
  });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
  await slack?.close();
  await tg?.close();
});

const slackFile = (id: string, url: string) => ({
  id,
  name: `${id}.txt`,
  mimetype: 'text/plain',
  url_private_download: url,
  size: TEXT.length,
});
const assetIdsOf = async (runId: string): Promise<string[]> => {
  const refs: string[] = [];
  const list = (await http(d.url, 'GET', '/v1/assets?limit=200')).body;
  for (const a of Array.isArray(list) ? list : list.items) {
    const r = (await http(d.url, 'GET', `/v1/assets/${a.asset_id}/references`)).body;
    const items = Array.isArray(r) ? r : (r.references ?? r.items ?? []);
    if (items.some((x: any) => x.owner_id === runId)) refs.push(a.asset_id);
  }
  return refs;
};

test('api-collab §6.5: a signed Slack message with files: allowed files become assets of the run, others are named as skipped', async () => {
  slack.files.set('in.txt', { bytes: TEXT, type: 'text/plain' });
  const before = slack.count('file');
  const r = await slackPost(
    d.url,
    'files',
    slackMessageEvent({
      event_id: 'EvF1',
      ts: '1700000500.000100',
      text: 'have a look',
      files: [
        slackFile('F1', `${slack.url}/files/in.txt`),
        slackFile('F2', 'https://evil.example/steal.txt'),
        slackFile('F3', `${slack.url}/redirect/in.txt`),
      ],
    }),
  );
  assert.equal(r.body.status, 'accepted', r.text);
  const run = (await http(d.url, 'GET', `/v1/runs/${r.body.run_id}`)).body;
  assert.deepEqual(run.input_metadata.slack_skipped_files, [
    { id: 'F2', reason: 'file_host_not_allowed' },
    { id: 'F3', reason: 'download_redirect' },
  ]);
  // One file fetched (the redirect was asked once and not followed); the bot token went only there.
  assert.equal(slack.count('file') - before, 1);
  const held = await assetIdsOf(r.body.run_id);
  assert.equal(held.length, 1);
  const raw = await fetch(`${d.url}/v1/assets/${held[0]}/raw`);
  assert.deepEqual(Buffer.from(await raw.arrayBuffer()), TEXT);
  // A retry of the same event fetches nothing again.
  const again = await slackPost(
    d.url,
    'files',
    slackMessageEvent({
      event_id: 'EvF1',
      ts: '1700000500.000100',
      text: 'have a look',
      files: [
        slackFile('F1', `${slack.url}/files/in.txt`),
        slackFile('F2', 'https://evil.example/steal.txt'),
        slackFile('F3', `${slack.url}/redirect/in.txt`),
      ],
    }),
  );
  assert.equal(again.body.status, 'duplicate');
  assert.equal(slack.count('file') - before, 1);
});

test('api-collab §6.5: files are never fetched for unsigned or rate-limited events', async () => {
  const before = slack.count('file');
  const open = await slackPost(
    d.url,
    'open',
    slackMessageEvent({ event_id: 'EvF2', text: '', files: [slackFile('F4', `${slack.url}/files/in.txt`)] }),
    { secret: 'anything' },
  );
  assert.equal(open.body.status, 'accepted', open.text);
  const first = await slackPost(
    d.url,
    'tight',
    slackMessageEvent({ event_id: 'EvF3', ts: '1700000600.000001', text: 'x' }),
  );
  assert.equal(first.body.status, 'accepted');
  const limited = await slackPost(
    d.url,
    'tight',
    slackMessageEvent({
      event_id: 'EvF4',
      ts: '1700000600.000002',
      files: [slackFile('F5', `${slack.url}/files/in.txt`)],
    }),
  );
  assert.equal(limited.status, 429);
  assert.equal(slack.count('file'), before);
  const run = (await http(d.url, 'GET', `/v1/runs/${open.body.run_id}`)).body;
  assert.match(JSON.stringify(run.request), /could not be fetched/);
});

test('api-collab §6.6: a Telegram document and photo are fetched through getFile after dedupe; on a text-only route the photo is set aside', async () => {
  tg.files.set('doc-1', { bytes: TEXT });
  tg.files.set('photo-big', { bytes: jpeg });
  const update = telegramMessage({
    update_id: 700,
    chat_id: 7100,
    extra: {
      caption: 'two files',
      photo: [
        { file_id: 'photo-small', file_unique_id: 's', width: 4, height: 4 },
        { file_id: 'photo-big', file_unique_id: 'b', width: 8, height: 8 },
      ],
      document: { file_id: 'doc-1', file_unique_id: 'd1', file_name: 'notes.txt', mime_type: 'text/plain' },
    },
  });
  const r = await telegramPost(d.url, 'files', update);
  assert.equal(r.body.status, 'accepted', r.text);
  // The scripted route cannot read images: the run is refused with the photo, so the event is
  // submitted again without it (decision 300), and the photo is named as skipped.
  assert.deepEqual(
    tg.callsOf('getFile').map((c) => c.body.file_id),
    ['photo-big', 'doc-1', 'doc-1'],
  );
  const run = (await http(d.url, 'GET', `/v1/runs/${r.body.run_id}`)).body;
  assert.deepEqual(run.input_metadata.telegram_skipped_files, [
    { id: 'photo-big', reason: 'route_cannot_read_images' },
  ]);
  const held = await assetIdsOf(r.body.run_id);
  assert.equal(held.length, 1);
  const raw = await fetch(`${d.url}/v1/assets/${held[0]}/raw`);
  assert.deepEqual(Buffer.from(await raw.arrayBuffer()), TEXT);
  assert.equal((await telegramPost(d.url, 'files', update)).body.status, 'duplicate');
  assert.equal(tg.count('getFile'), 3, 'a duplicate fetches nothing');
});

test('api-collab §6.5 output: an emitted file goes through the external upload APIs; a retry resumes after the upload', async () => {
  const thread = (c: { body: Record<string, any> }) => c.body.channel_id === 'C0700';
  slack.script('files.completeUploadExternal', [
    { when: thread, status: 500, body: { ok: false, error: 'internal_error' } },
  ]);
  const r = await slackPost(
    d.url,
    'files',
    slackMessageEvent({
      event_id: 'EvOut1',
      channel: 'C0700',
      ts: '1700000700.000100',
      text: 'send the report',
    }),
  );
  await waitForRun(d.url, r.body.run_id);
  const done = await eventually('the completed upload', () =>
    slack.completedUploads().find((u) => u.channel_id === 'C0700'),
  );
  assert.equal(done.thread_ts, '1700000700.000100');
  assert.equal(done.filename, 'report.txt');
  assert.deepEqual(done.bytes, TEXT);
  await eventually('both outputs delivered', async () => {
    const v = (await http(d.url, 'GET', `/v1/runs/${r.body.run_id}`)).body;
    return v.deliveries?.length === 2 && v.deliveries.every((x: any) => x.status === 'delivered');
  });
  // The failed completion was retried alone: one URL, one upload, two completions, text posted once.
  assert.equal(
    slack.callsOf('files.getUploadURLExternal').filter((c) => c.body.filename === 'report.txt').length,
    1,
  );
  assert.equal(slack.callsOf('files.completeUploadExternal').filter(thread).length, 2);
  assert.deepEqual(
    slack.posted.filter((p) => p.channel === 'C0700').map((p) => p.text),
    ['see attached', 'done'],
  );
});

test('api-collab §6.6 output: images go by sendPhoto, other files by sendDocument; a failed chunk resumes without repeats', async () => {
  const r = await telegramPost(
    d.url,
    'files',
    telegramMessage({ update_id: 710, chat_id: 7200, text: 'send both' }),
  );
  await waitForRun(d.url, r.body.run_id);
  const files = await eventually('two files', () => {
    const got = tg.sent.filter((m) => m.chat_id === 7200 && m.file);
    return got.length === 2 ? got : null;
  });
  assert.deepEqual(
    files.map((f) => [f.method, f.file!.name]),
    [
      ['sendPhoto', 'chart.png'],
      ['sendDocument', 'report.txt'],
    ],
  );
  assert.deepEqual(files[0]!.file!.bytes, png);

  let n = 0;
  tg.script('sendMessage', [
    {
      when: (c) => Number(c.body.chat_id) === 7300 && ++n === 2,
      status: 502,
      body: { ok: false, error_code: 502, description: 'Bad Gateway' },
    },
  ]);
  const e = await telegramPost(
    d.url,
    'files',
    telegramMessage({ update_id: 711, chat_id: 7300, text: 'write an essay' }),
  );
  await waitForRun(d.url, e.body.run_id);
  const chunks = await eventually('all chunks', () => {
    const got = tg.sent.filter((m) => m.chat_id === 7300);
    return got.length >= 3 ? got : null;
  });
  const full = `${'line of text\n'.repeat(800)}end`;
  assert.equal(chunks.map((c) => c.text).join(''), full, 'each chunk sent once, in order');
  assert.ok(
    chunks.every((c) => c.text!.endsWith('\n') || c === chunks.at(-1)),
    'cut at line breaks',
  );
});
