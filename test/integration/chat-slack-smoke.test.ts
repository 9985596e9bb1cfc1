import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SlackApiFixture, slackMessageEvent } from '../fixtures/chat/slack-api-server.ts';
import { eventually, putConnector, SLACK_SECRET, SLACK_TOKEN, slackPost } from '../helpers/chat-connectors.ts';
import { http, startDaemon, waitForRun } from '../helpers/daemon.ts';

test('smoke: slack event -> run -> answer in thread', async () => {
  const slack = await new SlackApiFixture([SLACK_TOKEN]).start();
  const d = await startDaemon({
    script: { default: { turns: [{ text: 'the answer' }] } },
    env: { T_SLACK_SECRET: SLACK_SECRET, T_SLACK_TOKEN: SLACK_TOKEN },
  });
  try {
    await putConnector(d.url, 'slack', 'support', {
      signing_secret: { env: 'T_SLACK_SECRET' },
      bot_token: { env: 'T_SLACK_TOKEN' },
      api_base_url: slack.apiBaseUrl,
      session_policy: { create_if_missing: true },
    });
    const r = await slackPost(d.url, 'support', slackMessageEvent({ event_id: 'Ev1', text: 'hi' }));
    console.log(r.status, r.text);
    const run = await waitForRun(d.url, r.body.run_id);
    console.log(run.status, JSON.stringify(run.deliveries));
    await eventually('posted', () => slack.posted.length > 0);
    console.log(slack.posted);
    const dl = await http(d.url, 'GET', '/v1/deliveries');
    console.log(dl.text.slice(0, 500));
  } finally {
    console.log(d.logs().slice(-3000));
    await d.kill();
    await d.cleanup();
    await slack.close();
  }
});
