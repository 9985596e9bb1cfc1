// Every page of the console in a real browser against a daemon with auth on (issue 21): sign-in,
// the inbox, a schedule created, paused and triggered from the console, form errors shown next to
// their fields, an axe-core check of each page (no serious or critical violations, light and dark),
// narrow windows, and the "runtime is not answering" panel.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { http, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
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

const ADMIN = 'console-pages-admin-token-0123456789';
const auth = { authorization: `Bearer ${ADMIN}` };
const script = {
  rules: [
    {
      match: 'approve',
      turns: [
        { tool_calls: [{ name: 'bash', arguments: { command: 'echo from-the-inbox' } }] },
        { text: 'ran it' },
      ],
    },
    askRule(
      'ask',
      { id: 'colour', header: 'Colour', question: 'Which colour?', options: ['Blue', 'Green'] },
      'noted',
    ),
  ],
  default: { turns: [{ text: 'ok' }] },
};

let d: TestDaemon;
let b: Browser;
let page: Page;

const api = (method: string, path: string, body?: unknown) => http(d.url, method, path, body, auth);

before(async () => {
  ensureConsoleBuilt();
  // A fixed port: the last test restarts the daemon under the open page.
  const port = await freePort();
  d = await startDaemon({ script, args: ['--http-admin-token', ADMIN, '--bind', `127.0.0.1:${port}`] });
  await api('POST', '/v1/sessions', { session_id: 'desk' });
  b = await openBrowser();
  page = b.page;
});
after(() => closeAll(b, d));

async function visit(hash: string, heading: string | RegExp) {
  await page.goto(`${d.url}/#/${hash}`);
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  // Every section of the page has loaded (or shows its error).
  await page.waitForFunction("!document.querySelector('main .spinner')");
}

test('console sign-in: a wrong token is refused next to the field; the admin token opens the console', async () => {
  await step(page, 'sign-in', async () => {
    await page.goto(`${d.url}/`);
    await page.getByRole('heading', { name: 'Sign in to Kheish Air' }).waitFor();
    await docShot(page, 'sign-in');
    await page.getByLabel('Bearer token').fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    assert.match((await page.locator('#token-error').textContent()) ?? '', /not recognised/);
    await page.getByLabel('Bearer token').fill(ADMIN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // Routes and a session exist: no wizard, straight to the chat.
    await page.getByRole('heading', { name: 'Chat · desk' }).waitFor();
    const stored = await page.evaluate(() => sessionStorage.getItem('kheish-air.token'));
    assert.equal(stored, ADMIN, 'kept for this tab only unless "remember" is ticked');
  });
});

test('console inbox: approvals and questions from any session are answered there', async () => {
  await step(page, 'inbox', async () => {
    await api('POST', '/v1/sessions', { session_id: 'inbox-a' });
    await api('POST', '/v1/sessions', { session_id: 'inbox-b' });
    const approval = (await api('POST', '/v1/sessions/inbox-a/runs', { content: 'approve this' })).body;
    const question = (await api('POST', '/v1/sessions/inbox-b/runs', { content: 'ask me' })).body;
    await visit('inbox', 'Inbox');
    await page.getByRole('heading', { name: 'Approvals (1)' }).waitFor();
    await page.getByRole('heading', { name: 'Questions (1)' }).waitFor();
    await docShot(page, 'inbox');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByLabel('Green').check();
    await page.getByRole('button', { name: 'Answer' }).click();
    await page.getByRole('heading', { name: 'Approvals (0)' }).waitFor();
    await page.getByRole('heading', { name: 'Questions (0)' }).waitFor();
    assert.equal((await finished(approval.run_id)).status, 'completed');
    assert.equal((await finished(question.run_id)).status, 'completed');
  });
});

/** waitForRun with the admin token. */
async function finished(runId: string) {
  for (let i = 0; i < 100; i++) {
    const run = (await api('GET', `/v1/runs/${runId}`)).body;
    if (['completed', 'failed', 'cancelled'].includes(run.status)) return run;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`run ${runId} did not finish`);
}

test('console schedules: an invalid cron shows the daemon detail at the field; a valid one is created, paused and run now', async () => {
  await step(page, 'schedules', async () => {
    await visit('schedules', 'Schedules');
    await page.getByLabel('Name').fill('morning digest');
    await page.getByLabel('Session').selectOption('desk');
    await page.getByLabel('Message sent at each fire').fill('write the digest');
    await page.getByLabel('Cron expression').fill('not a cron');
    await page.getByRole('button', { name: 'Create schedule' }).click();
    const cronError = page.locator('#schedule-expression-error');
    await cronError.waitFor();
    assert.match((await cronError.textContent()) ?? '', /cron/i);
    assert.equal(await page.getByLabel('Cron expression').getAttribute('aria-invalid'), 'true');
    await page.getByLabel('Cron expression').fill('0 0 8 * * *');
    await page.getByRole('button', { name: 'Create schedule' }).click();
    await page.getByRole('status').filter({ hasText: 'Created morning digest' }).waitFor();
    const row = page.locator('tr', { hasText: 'morning digest' });
    await row.waitFor();
    await row.getByRole('button', { name: 'Run now: morning digest' }).click();
    await row.locator('td', { hasText: /^1$/ }).waitFor();
    await row.getByRole('button', { name: 'Pause: morning digest' }).click();
    await row.locator('.badge', { hasText: 'paused' }).waitFor();
    await row.getByRole('button', { name: 'Resume: morning digest' }).waitFor();
    const list = (await api('GET', '/v1/schedules')).body;
    const made = (list.items ?? list).find((s: { name: string }) => s.name === 'morning digest');
    assert.equal(made.status, 'paused');
    assert.equal(made.cadence.expression, '0 0 8 * * *');
    await docShot(page, 'schedules');
  });
});

test('console forms: a duplicate session id and a refused one are explained next to the field', async () => {
  await step(page, 'session-id-errors', async () => {
    await visit('chat', 'Chat');
    const field = page.getByLabel('New session id (optional)');
    const error = page.locator('#new-session-id-error');
    await field.fill('desk');
    await page.getByRole('button', { name: 'Start session' }).click();
    await error.waitFor();
    assert.match((await error.textContent()) ?? '', /"desk" already exists/);
    // The daemon's own problem detail, word for word.
    await field.fill('a/b');
    await page.getByRole('button', { name: 'Start session' }).click();
    await error.filter({ hasText: 'without slashes' }).waitFor();
    assert.equal(await field.getAttribute('aria-invalid'), 'true');
  });
});

test('console runtime: permission mode and debug capture changed from the page, then rolled back to a revision', async () => {
  await step(page, 'runtime', async () => {
    await visit('runtime', 'Runtime');
    await page.getByLabel('Permission mode').selectOption('acceptEdits');
    await page.getByRole('cell', { name: '#1 (current)' }).waitFor();
    await page.getByLabel('Debug capture').selectOption('on');
    await page.getByRole('cell', { name: '#2 (current)' }).waitFor();
    const before = (await api('GET', '/v1/runtime')).body;
    assert.deepEqual([before.permission_mode, before.debug_level], ['acceptEdits', 'on']);
    await page.getByRole('button', { name: 'Roll back to revision 1' }).click();
    await page.getByRole('cell', { name: '#3 (current)' }).waitFor();
    const after = (await api('GET', '/v1/runtime')).body;
    assert.deepEqual([after.permission_mode, after.debug_level], ['acceptEdits', 'off']);
    assert.equal(await page.getByLabel('Debug capture').inputValue(), 'off');
  });
});

const PAGES: [string, string | RegExp][] = [
  ['chat/desk', 'Chat · desk'],
  ['inbox', 'Inbox'],
  ['runs', 'Runs'],
  ['agents', 'Agents'],
  ['tasks/desk', 'Tasks'],
  ['schedules', 'Schedules'],
  ['channels', 'Channels'],
  ['projects', 'Projects'],
  ['flows', 'Flows and playbooks'],
  ['boards', 'Boards'],
  ['assets', 'Assets'],
  ['learnings', 'Learnings'],
  ['memory/desk', 'Memory · desk'],
  ['runtime', 'Runtime'],
  ['status', 'Status'],
  ['setup', 'Welcome to Kheish Air'],
];

test('console accessibility: no serious or critical axe-core violation on any page, in light and dark', async () => {
  const runs = (await api('GET', '/v1/runs?session_id=inbox-a')).body;
  const runId = (runs.items ?? runs)[0].run_id;
  for (const theme of ['light', 'dark']) {
    await page.evaluate((t) => localStorage.setItem('kheish-air.theme', t), theme);
    for (const [hash, heading] of [...PAGES, [`runs/${runId}`, /^Run run-/] as [string, RegExp]]) {
      await step(page, `a11y-${theme}-${hash.replaceAll('/', '_')}`, async () => {
        await visit(hash, heading);
        const found = await seriousViolations(page);
        assert.deepEqual(found, [], `${theme} ${hash}:\n${explain(found)}`);
        // The learnings and memory pictures come from their own tests, where the pages have data.
        if (theme === 'light' && !['learnings', 'memory/desk'].includes(hash))
          await docShot(page, hash.split('/')[0] === 'runs' && hash !== 'runs' ? 'run' : hash.split('/')[0]!);
      });
    }
  }
  await page.evaluate(() => localStorage.setItem('kheish-air.theme', 'system'));
});

test('console layout: usable in a narrow window (navigation wraps, nothing scrolls sideways), keyboard reaches the pages', async () => {
  await step(page, 'narrow', async () => {
    await page.setViewportSize({ width: 420, height: 800 });
    await visit('runs', 'Runs');
    const overflow = (await page.evaluate(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    )) as number;
    assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
    await page.getByRole('link', { name: 'Status' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Status' }).waitFor();
    // Focus moves to the new page's heading (after the render).
    await page.waitForFunction("document.activeElement?.id === 'page-title'");
    await page.setViewportSize({ width: 1280, height: 800 });
  });
});

test('console: "the runtime is not answering" with Retry while the daemon is down; gone by itself when it is back', async () => {
  await step(page, 'down', async () => {
    await visit('status', 'Status');
    await d.kill();
    // The next view's loads fail: the page says so and keeps what it showed.
    await page.getByRole('link', { name: 'Runs' }).click();
    const banner = page.locator('.down-banner', { hasText: 'The runtime is not answering' });
    await banner.waitFor();
    await banner.getByRole('button', { name: 'Retry' }).waitFor();
    await docShot(page, 'down');
    d = await d.restart();
    await banner.waitFor({ state: 'detached', timeout: 20_000 });
    await page.getByRole('heading', { level: 1, name: 'Runs' }).waitFor();
  });
});
