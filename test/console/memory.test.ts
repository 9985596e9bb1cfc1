// The Memory view in a real browser (issue 21, api-core §3.5): a session with finished runs and a
// published workspace learning shows its learning scopes, the learned context and recovered run
// records its next prompt would get, and its visible skills; the query box ranks the context and
// searches what the session can see, each result with its kind, score and matched fields.
// axe-core finds no serious violation, light or dark.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { http, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import {
  type Browser,
  closeAll,
  docShot,
  explain,
  okCall,
  openBrowser,
  seriousViolations,
  step,
} from './browser.ts';
import { ensureConsoleBuilt } from './build.ts';

let d: TestDaemon;
let b: Browser;
let page: Page;

const api = (method: string, path: string, body?: unknown) => okCall(d.url, method, path, body);

async function runToEnd(content: string) {
  const { run_id } = await api('POST', '/v1/sessions/ops/runs', { content });
  for (let i = 0; i < 100; i++) {
    if ((await api('GET', `/v1/runs/${run_id}`)).status === 'completed') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`run ${run_id} did not complete`);
}

before(async () => {
  ensureConsoleBuilt();
  d = await startDaemon({});
  await api('POST', '/v1/sessions', { session_id: 'ops' });
  await runToEnd('Rotate the TLS certificates of staging');
  await runToEnd('Plan the kubernetes node upgrade');
  const c = await api('POST', '/v1/learning-candidates', {
    scope: { kind: 'workspace' },
    kind: 'fact',
    content: 'The TLS certificates of staging are renewed every 90 days.',
  });
  await api('POST', `/v1/learning-candidates/${c.candidate_id}/publish`, {});
  b = await openBrowser();
  page = b.page;
});
after(() => closeAll(b, d));

const rowsOf = (name: string) => page.getByRole('table', { name }).locator('tbody tr');

test('console memory: a session’s prompt context and a memory search with kind, score and matched fields', async () => {
  await step(page, 'memory', async () => {
    await page.goto(`${d.url}/#/memory`);
    await page.getByRole('heading', { level: 1, name: 'Memory' }).waitFor();
    await page.getByLabel('Session').selectOption('ops');
    await page.getByRole('heading', { level: 1, name: 'Memory · ops' }).waitFor();

    // The context a prompt would get, without a query: every eligible learning, newest records.
    await page.locator('p', { hasText: 'Learning scopes:' }).getByText('workspace:default').waitFor();
    await page.locator('p', { hasText: 'Learning scopes:' }).getByText('session:ops').waitFor();
    await rowsOf('Learned context').filter({ hasText: 'renewed every 90 days' }).waitFor();
    await rowsOf('Recovered memory').filter({ hasText: 'TLS certificates' }).waitFor();
    assert.equal(await rowsOf('Recovered memory').count(), 2);
    await page.getByRole('heading', { name: /^Visible skills \(\d+\)$/ }).waitFor();
    // Without a query, search lists the newest entries.
    await page.getByRole('heading', { name: 'Newest memory (no query)' }).waitFor();

    // A query ranks the context and searches: kind, score and matched fields per result.
    await page.getByLabel('Query').fill('TLS');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('heading', { name: 'Search: “TLS”' }).waitFor();
    const results = rowsOf('Memory search results');
    const learning = results.filter({ has: page.locator('.badge', { hasText: 'learning' }) });
    await learning.filter({ hasText: 'renewed every 90 days' }).waitFor();
    assert.match((await learning.first().textContent()) ?? '', /content/);
    const run = results.filter({ has: page.locator('.badge', { hasText: 'recovered run' }) });
    await run.filter({ hasText: 'TLS certificates' }).waitFor();
    assert.equal(await results.filter({ hasText: 'kubernetes' }).count(), 0, 'the other run does not match');
    const api = await http(d.url, 'GET', '/v1/sessions/ops/memory-search?query=TLS&limit=50');
    const top = api.body.results[0];
    const shown = await results.first().locator('td').nth(2).textContent();
    assert.equal(shown, top.score.toFixed(2), 'the score as the daemon ranks it');
    await page.getByRole('heading', { name: 'What the next prompt would get (about “TLS”)' }).waitFor();
    await rowsOf('Recovered memory').first().filter({ hasText: 'TLS certificates' }).waitFor();
    await docShot(page, 'memory');

    for (const theme of ['light', 'dark']) {
      await page.evaluate((t) => localStorage.setItem('kheish-air.theme', t), theme);
      await page.reload();
      await page.getByRole('table', { name: 'Memory search results' }).waitFor();
      const found = await seriousViolations(page);
      assert.deepEqual(found, [], `${theme}:\n${explain(found)}`);
    }
    await page.evaluate(() => localStorage.setItem('kheish-air.theme', 'system'));
  });
});
