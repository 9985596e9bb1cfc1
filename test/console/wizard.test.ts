// The first-launch wizard end to end in a real browser (issue 21), on a daemon started as
// `kheish-daemon up` starts it: no routes (--allow-empty-routes) and a master key for the secret
// store. The page opens on the wizard; an empty key is refused at the field; an OpenAI key is
// stored write-only through POST /v1/runtime/routes and the route becomes the default; an MCP
// server is hot-added from its card; the daily-digest template creates a persona, a session bound
// to it and a schedule, then opens the chat; the next visit skips the wizard.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { Kheish } from '../../src/sdk/index.ts';
import { generateMasterKeyText } from '../../src/secrets/crypto.ts';
import { http, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { type Browser, docShot, explain, openBrowser, seriousViolations, step } from './browser.ts';
import { ensureConsoleBuilt } from './build.ts';

const KEY = `sk-console-wizard-${Math.random().toString(36).slice(2)}-SECRET`;
let d: TestDaemon;
let b: Browser;
let page: Page;

before(async () => {
  ensureConsoleBuilt();
  d = await startDaemon({
    args: ['--allow-empty-routes'],
    env: { KHEISH_AUTH_STORE_MASTER_KEY: generateMasterKeyText() },
  });
  b = await openBrowser();
  page = b.page;
});
after(async () => {
  await b?.close();
  await d.kill();
  await d.cleanup();
});

test('console wizard: key refused when empty, route and MCP server added live, digest template lands in the chat', async () => {
  await step(page, 'wizard', async () => {
    await page.goto(`${d.url}/`);
    await page.getByRole('heading', { name: 'Welcome to Kheish Air' }).waitFor();
    await docShot(page, 'setup');
    const a11y = await seriousViolations(page);
    assert.deepEqual(a11y, [], explain(a11y));

    // Model: the key is required, then stored write-only; the first route becomes the default.
    await page.getByRole('radio', { name: 'OpenAI gpt-5.4-mini' }).check();
    assert.equal(await page.getByLabel('Model', { exact: true }).inputValue(), 'gpt-5.4-mini');
    await page.getByRole('button', { name: 'Save and continue' }).click();
    await page.locator('#route-key-error', { hasText: 'the API key is empty' }).waitFor();
    await page.getByLabel('OpenAI API key').fill(KEY);
    await page.getByRole('button', { name: 'Save and continue' }).click();
    await page.getByRole('heading', { name: 'Give it tools (optional)' }).waitFor();
    const routes = (await http(d.url, 'GET', '/v1/runtime/routes')).body as {
      route_id: string;
      is_default: boolean;
    }[];
    assert.deepEqual(
      routes.map((r) => [r.route_id, r.is_default]),
      [['openai', true]],
    );
    for (const path of ['/v1/runtime/routes', '/v1/runtime', '/v1/status', '/v1/runtime/secrets']) {
      assert.ok(!(await http(d.url, 'GET', path)).text.includes(KEY), `the key is write-only (${path})`);
    }

    // Tools: a card starts an MCP server on the daemon; its tools are live at once.
    await page.getByRole('button', { name: 'Add Files' }).click();
    await page.getByText('Added').waitFor({ timeout: 30_000 });
    const inventory = await new Kheish({ baseUrl: d.url }).mcp.inventory();
    assert.match(JSON.stringify(inventory), /"filesystem"/);
    await page.getByRole('button', { name: 'Continue' }).click();

    // Agent: the daily digest makes a persona, a bound session and a schedule, then the chat.
    await page.getByLabel('Daily digest').check();
    await page.getByLabel('Session id (optional)').fill('digest-desk');
    await page.getByRole('button', { name: 'Create and open the chat' }).click();
    await page.getByRole('heading', { name: 'Chat · digest-desk' }).waitFor();
    const session = (await http(d.url, 'GET', '/v1/sessions/digest-desk')).body;
    assert.match(
      JSON.stringify(session),
      /"display_name":"Daily digest"/,
      'the session is bound to the persona',
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
