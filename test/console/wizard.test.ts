// The first-launch wizard end to end in a real browser (issue 21), on a daemon started as
// `kheish-daemon up` starts it: no routes (--allow-empty-routes) and a master key for the secret
// store. The page opens on the wizard's four steps. Model: a bad Ollama base URL is refused at its
// field, a custom one is saved; back at the start, an empty key is refused at the field and an
// OpenAI key is stored write-only and made the default. Tools: an MCP server is hot-added from its
// card. Secrets: a bad slot name gets the daemon's detail at the field, a value is stored
// write-only and its slot shows as set. First agent: the daily-digest template creates a persona,
// a session bound to it and a schedule, then opens the chat; the next visit skips the wizard.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { Kheish } from '../../src/sdk/index.ts';
import { generateMasterKeyText } from '../../src/secrets/crypto.ts';
import { http, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { type Browser, closeAll, docShot, explain, openBrowser, seriousViolations, step } from './browser.ts';
import { ensureConsoleBuilt } from './build.ts';

const KEY = `sk-console-wizard-${Math.random().toString(36).slice(2)}-SECRET`;
const SECRET = `weather-${Math.random().toString(36).slice(2)}-VALUE`;
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
after(() => closeAll(b, d));

test('console wizard: four steps; base URL and key checked at their fields, route, MCP server and secret added live, digest template lands in the chat', async () => {
  await step(page, 'wizard', async () => {
    await page.goto(`${d.url}/`);
    await page.getByRole('heading', { name: 'Welcome to Kheish Air' }).waitFor();
    await docShot(page, 'setup');
    const a11y = await seriousViolations(page);
    assert.deepEqual(a11y, [], explain(a11y));

    // Model, Ollama: the base URL is the user's; a bad one gets the daemon's detail at the field.
    await page.getByRole('radio', { name: 'Ollama (local) llama3.2' }).check();
    const baseUrl = page.getByLabel('Base URL');
    assert.equal(await baseUrl.inputValue(), 'http://127.0.0.1:11434/v1');
    await baseUrl.fill('not a url');
    await page.getByRole('button', { name: 'Save and continue' }).click();
    await page.locator('#route-base-url-error', { hasText: /base_url/ }).waitFor();
    assert.equal(await baseUrl.getAttribute('aria-invalid'), 'true');
    await baseUrl.fill('http://127.0.0.1:11500/v1');
    // The route view does not echo base_url: the request the page sends is checked instead.
    const sent = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/v1/runtime/routes'));
    await page.getByRole('button', { name: 'Save and continue' }).click();
    assert.equal((await sent).postDataJSON().base_url, 'http://127.0.0.1:11500/v1');
    await page.getByRole('heading', { name: 'Give it tools (optional)' }).waitFor();
    const ollama = (await http(d.url, 'GET', '/v1/runtime/routes')).body as { route_id: string }[];
    assert.deepEqual(
      ollama.map((r) => r.route_id),
      ['ollama'],
    );

    // Model, OpenAI: the key is required, then stored write-only; the wizard makes it the default.
    await page.goto(`${d.url}/#/setup`);
    await page.reload();
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
    assert.deepEqual(routes.map((r) => [r.route_id, r.is_default]).sort(), [
      ['ollama', false],
      ['openai', true],
    ]);
    for (const path of ['/v1/runtime/routes', '/v1/runtime', '/v1/status', '/v1/runtime/secrets']) {
      assert.ok(!(await http(d.url, 'GET', path)).text.includes(KEY), `the key is write-only (${path})`);
    }

    // Tools: a card starts an MCP server on the daemon; its tools are live at once.
    await page.getByRole('button', { name: 'Add Files' }).click();
    await page.getByText('Added').waitFor({ timeout: 30_000 });
    const inventory = await new Kheish({ baseUrl: d.url }).mcp.inventory();
    assert.match(JSON.stringify(inventory), /"filesystem"/);
    await page.getByRole('button', { name: 'Continue' }).click();

    // Secrets: suggested slots show unset; a bad name gets the daemon's detail at the field; a
    // stored value is never read back, its slot shows as set.
    await page.getByRole('heading', { name: 'Park secrets (optional)' }).waitFor();
    const slotRow = (id: string) => page.locator('tr', { hasText: id });
    await slotRow('tools.weather.API_KEY').locator('.badge', { hasText: 'unset' }).waitFor();
    await page.getByLabel('Slot name').fill('tools weather key');
    await page.getByLabel('Value', { exact: true }).fill(SECRET);
    await page.getByRole('button', { name: 'Save secret' }).click();
    const slotError = page.locator('#secret-slot-error');
    await slotError.waitFor();
    assert.match((await slotError.textContent()) ?? '', /slot_id: slot ids use only letters/);
    assert.equal(await page.getByLabel('Slot name').getAttribute('aria-invalid'), 'true');
    // The route's key slot is listed as set, but this step will not overwrite it.
    await slotRow('routes.openai.api_key').locator('.badge', { hasText: /^set$/ }).waitFor();
    await page.getByLabel('Slot name').fill('routes.openai.api_key');
    await page.getByRole('button', { name: 'Save secret' }).click();
    await slotError.filter({ hasText: 'holds api key credentials' }).waitFor();
    await slotRow('tools.weather.API_KEY').getByRole('button', { name: 'Set tools.weather.API_KEY' }).click();
    assert.equal(await page.getByLabel('Slot name').inputValue(), 'tools.weather.API_KEY');
    await page.getByRole('button', { name: 'Save secret' }).click();
    await page.getByRole('status').filter({ hasText: 'Stored tools.weather.API_KEY' }).waitFor();
    await slotRow('tools.weather.API_KEY').locator('.badge', { hasText: /^set$/ }).waitFor();
    assert.equal(
      await page.getByLabel('Value', { exact: true }).inputValue(),
      '',
      'the value leaves the page',
    );
    const secrets = await http(d.url, 'GET', '/v1/runtime/secrets');
    assert.match(secrets.text, /tools\.weather\.API_KEY/);
    assert.ok(!secrets.text.includes(SECRET), 'the value is write-only');
    await docShot(page, 'setup-secrets');
    const a11ySecrets = await seriousViolations(page);
    assert.deepEqual(a11ySecrets, [], explain(a11ySecrets));
    await page.getByRole('button', { name: 'Continue' }).click();

    // First agent: the daily digest makes a persona, a bound session and a schedule, then the chat.
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
