// Chat in a real browser against a real daemon (issue 21): a tool call that needs approval is
// approved in the page and every step shows as it happens; the daemon is SIGKILLed mid-answer and
// restarted on the same address while the page stays open, and the page shows the answer once.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { startDaemon, type TestDaemon, tempDir } from '../helpers/daemon.ts';
import {
  askRule,
  type Browser,
  closeAll,
  docShot,
  explain,
  freePort,
  openBrowser,
  seriousViolations,
  step,
} from './browser.ts';
import { ensureConsoleBuilt } from './build.ts';

const script = {
  rules: [
    {
      match: 'write the note',
      turns: [
        {
          tool_calls: [{ name: 'write_file', arguments: { path: 'note.txt', content: 'from the console' } }],
        },
        { text: 'The note is written.' },
      ],
    },
    { match: 'slow', turns: [{ delay_ms: 4000, text: 'Here is the slow answer.' }] },
    { match: 'forever', turns: [{ hang: true }] },
    askRule(
      'ask me',
      { id: 'size', header: 'Size', question: 'Which size?', options: ['Small', 'Large'] },
      'Large it is.',
    ),
  ],
  default: { turns: [{ text: 'ok' }] },
};

let d: TestDaemon;
let b: Browser;
let page: Page;
let port: number;

before(async () => {
  ensureConsoleBuilt();
  port = await freePort();
  d = await startDaemon({
    script,
    args: ['--bind', `127.0.0.1:${port}`, '--workspace-root', tempDir('kheish-ws-')],
  });
  b = await openBrowser();
  page = b.page;
});
after(() => closeAll(b, d));

async function openSession(id: string) {
  await page.goto(`${d.url}/#/chat`);
  await page.getByLabel('New session id (optional)').fill(id);
  await page.getByRole('button', { name: 'Start session' }).click();
  await page.getByRole('heading', { name: `Chat · ${id}` }).waitFor();
  await page.locator('.link-state', { hasText: 'live' }).waitFor();
}

async function send(text: string) {
  await page.getByLabel('Message').fill(text);
  await page.getByLabel('Message').press('Enter');
}

test('console chat: a tool call waiting for approval is approved inline; args, decision, result and answer show', async () => {
  await step(page, 'chat-approval', async () => {
    await openSession('approve-me');
    await send('please write the note');
    const approve = page.getByRole('button', { name: 'Approve' });
    await approve.waitFor();
    // The request shows the tool's arguments before anyone decides.
    await page.locator('.step-approval', { hasText: 'approval needed for write_file' }).waitFor();
    assert.match((await page.locator('.step-approval pre').first().textContent()) ?? '', /from the console/);
    await docShot(page, 'chat-approval');
    const a11y = await seriousViolations(page);
    assert.deepEqual(a11y, [], explain(a11y));
    await approve.click();
    await page.locator('.msg-assistant', { hasText: 'The note is written.' }).waitFor();
    const steps = await page.locator('.steps .step').allInnerTexts();
    const joined = steps.join('\n');
    assert.match(joined, /permission\s+write_file: ask/i);
    assert.match(joined, /decision\s+write_file: approved/i);
    assert.match(joined, /tool\s+write_file/i);
    await page.locator('.run .badge', { hasText: 'completed' }).waitFor();
    await docShot(page, 'chat');
  });
});

test('console chat: the daemon killed mid-answer and restarted; the page reconnects and shows the answer once', async () => {
  await step(page, 'chat-restart', async () => {
    await openSession('survives');
    await send('a slow question');
    await page.locator('.run .badge', { hasText: 'running' }).waitFor();
    await d.kill();
    // The page notices, says so, and keeps trying on its own.
    await page.locator('.link-state', { hasText: /reconnecting|not answering/ }).waitFor();
    d = await d.restart();
    assert.equal(new URL(d.url).port, String(port), 'the daemon is back on the same address');
    await page
      .locator('.msg-assistant', { hasText: 'Here is the slow answer.' })
      .waitFor({ timeout: 30_000 });
    await page.locator('.run .badge', { hasText: 'completed' }).waitFor();
    // A moment more for any replayed frame to land: still one question and one answer.
    await page.waitForTimeout(1000);
    assert.equal(await page.locator('.msg-user', { hasText: 'a slow question' }).count(), 1);
    assert.equal(await page.locator('.msg-assistant', { hasText: 'Here is the slow answer.' }).count(), 1);
    assert.equal(await page.locator('.run').count(), 1);
  });
});

test('console chat: a question is answered inline, and a hanging run is cancelled from the page', async () => {
  await step(page, 'chat-question-cancel', async () => {
    await openSession('asks');
    await send('ask me something');
    await page.getByRole('group', { name: 'Which size?' }).waitFor();
    await page.getByLabel('Large').check();
    await page.getByRole('button', { name: 'Answer' }).click();
    await page.locator('.msg-assistant', { hasText: 'Large it is.' }).waitFor();

    await send('wait forever');
    await page
      .locator('.run', { hasText: 'wait forever' })
      .locator('.badge', { hasText: 'running' })
      .waitFor();
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await page
      .locator('.run', { hasText: 'wait forever' })
      .locator('.badge', { hasText: 'cancelled' })
      .waitFor();
    await page.getByRole('button', { name: 'Cancel run' }).waitFor({ state: 'detached' });
  });
});
