// The first-launch wizard in a real browser (issue 21). PENDING MERGE: its route and MCP steps use
// `client.runtime.addRoute/deleteRoute` and `client.mcp.addServer/removeServer`, which the
// `kheish-daemon up` branch adds to the SDK; until both branches are merged the second test skips
// itself (it names why), and the first covers what works on any daemon: the wizard shows on a
// daemon without sessions, says plainly that it cannot add routes or MCP servers there, and its
// agent template creates a persona, a session bound to it and a daily schedule, then opens the chat.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { Kheish } from '../../src/sdk/index.ts';
import { http, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { type Browser, docShot, explain, openBrowser, seriousViolations, step } from './browser.ts';
import { ensureConsoleBuilt } from './build.ts';

const probe = new Kheish() as unknown as { runtime: Record<string, unknown>; mcp: Record<string, unknown> };
const SETUP_IN_SDK =
  typeof probe.runtime.addRoute === 'function' &&
  typeof probe.runtime.deleteRoute === 'function' &&
  typeof probe.mcp.addServer === 'function' &&
  typeof probe.mcp.removeServer === 'function';

let d: TestDaemon;
let b: Browser;
let page: Page;

before(async () => {
  ensureConsoleBuilt();
  d = await startDaemon({ script: { default: { turns: [{ text: 'ok' }] } } });
  b = await openBrowser();
  page = b.page;
});
after(async () => {
  await b?.close();
  await d.kill();
  await d.cleanup();
});

test('console wizard: shown on a daemon without sessions; the daily-digest template makes a persona, a bound session and a schedule, then the chat', async () => {
  await step(page, 'wizard-template', async () => {
    await page.goto(`${d.url}/`);
    await page.getByRole('heading', { name: 'Welcome to Kheish Air' }).waitFor();
    await docShot(page, 'setup');
    const a11y = await seriousViolations(page);
    assert.deepEqual(a11y, [], explain(a11y));
    if (!SETUP_IN_SDK) await page.getByRole('note').filter({ hasText: 'cannot add routes' }).waitFor();
    await page.getByRole('button', { name: 'Keep the 1 configured route' }).click();
    await page.getByRole('heading', { name: 'Give it tools (optional)' }).waitFor();
    if (!SETUP_IN_SDK) await page.getByRole('note').filter({ hasText: 'cannot add MCP servers' }).waitFor();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByLabel('Daily digest').check();
    await page.getByLabel('Session id (optional)').fill('digest-desk');
    await page.getByRole('button', { name: 'Create and open the chat' }).click();
    await page.getByRole('heading', { name: 'Chat · digest-desk' }).waitFor();

    const session = (await http(d.url, 'GET', '/v1/sessions/digest-desk')).body;
    assert.ok(
      JSON.stringify(session).includes('persona'),
      `the session is bound to a persona: ${JSON.stringify(session)}`,
    );
    const list = (await http(d.url, 'GET', '/v1/schedules')).body;
    const schedules = (list.items ?? list).filter(
      (s: { target_session_id: string }) => s.target_session_id === 'digest-desk',
    );
    assert.equal(schedules.length, 1);
    assert.equal(schedules[0].cadence.expression, '0 0 8 * * *');

    // Routes and a session exist now: the next visit goes straight to the chat.
    await page.goto(`${d.url}/`);
    await page.getByRole('heading', { name: /^Chat · / }).waitFor();
  });
});

test('console wizard: an empty key is refused at the field; a provider key and an MCP server are added from the page (pending merge)', {
  skip: SETUP_IN_SDK ? false : 'pending merge: the SDK has no runtime.addRoute / mcp.addServer yet',
}, async () => {
  await step(page, 'wizard-setup', async () => {
    const client = new Kheish({ baseUrl: d.url }) as unknown as {
      runtime: { deleteRoute(id: string): Promise<unknown> };
      mcp: { removeServer(name: string): Promise<unknown>; inventory(): Promise<unknown> };
    };
    await page.goto(`${d.url}/#/setup`);
    await page.getByLabel('OpenAI').check();
    await page.getByRole('button', { name: 'Save and continue' }).click();
    await page.locator('#route-key-error', { hasText: 'the API key is empty' }).waitFor();
    const key = 'sk-console-wizard-test-0123456789';
    await page.getByLabel('OpenAI API key').fill(key);
    await page.getByRole('button', { name: 'Save and continue' }).click();
    await page.getByRole('heading', { name: 'Give it tools (optional)' }).waitFor();
    const routes = await http(d.url, 'GET', '/v1/runtime/routes');
    assert.ok(
      routes.body.some((r: { route_id: string }) => r.route_id === 'openai'),
      routes.text,
    );
    for (const path of ['/v1/runtime/routes', '/v1/runtime', '/v1/status', '/v1/runtime/secrets']) {
      assert.ok(!(await http(d.url, 'GET', path)).text.includes(key), `the key is write-only (${path})`);
    }
    await page.getByRole('button', { name: 'Add Files' }).click();
    await page.getByText('Added').waitFor({ timeout: 30_000 });
    assert.match(JSON.stringify(await client.mcp.inventory()), /filesystem/);
    await client.mcp.removeServer('filesystem');
    await client.runtime.deleteRoute('openai');
  });
});
