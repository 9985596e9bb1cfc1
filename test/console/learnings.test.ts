// The Learnings view in a real browser (issue 21, api-collab §4): a pending and an escalated
// candidate are published and rejected from the page; the learnings list is filtered by scope,
// kind and status (the daemon filters); a learning is revoked and another superseded, with the
// daemon's detail next to the content field on bad input; the automation policy shows read-only
// with the runtime revision it was set at; a promoted skill shows its rollout status and counts.
// axe-core finds no serious violation, light or dark.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { startDaemon, type TestDaemon } from '../helpers/daemon.ts';
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
const candidate = (content: string, kind = 'fact', scope: unknown = { kind: 'workspace' }) =>
  api('POST', '/v1/learning-candidates', { scope, kind, content });

before(async () => {
  ensureConsoleBuilt();
  d = await startDaemon({});
  await api('POST', '/v1/sessions', { session_id: 'desk' });
  // Under the default (shadow) policy a candidate stays pending.
  await candidate('Deploys happen on Tuesdays.');
  // Enabled with manual review as the default action: the next one is escalated (revision 1).
  await api('POST', '/v1/runtime/learning-policy', { policy: { mode: 'enabled' } });
  await candidate('The staging database is reset nightly.');
  // Two published learnings of other kinds and scopes, for the filters.
  const pref = await candidate('Answers should be short.', 'preference');
  await api('POST', `/v1/learning-candidates/${pref.candidate_id}/publish`, {});
  const fact = await candidate('This desk tracks the release train.', 'fact', {
    kind: 'session',
    id: 'desk',
  });
  await api('POST', `/v1/learning-candidates/${fact.candidate_id}/publish`, {});
  // A workspace procedure promoted to a skill: a draft until runs give evidence.
  const proc = await candidate('RELEASE-CHECK: walk the release checklist.', 'procedure');
  const published = await api('POST', `/v1/learning-candidates/${proc.candidate_id}/publish`, {});
  await api('POST', `/v1/learnings/${published.learning_id}/promote-skill`, { skill_name: 'release:check' });
  b = await openBrowser();
  page = b.page;
});
after(() => closeAll(b, d));

const rowsOf = (name: string) => page.getByRole('table', { name }).locator('tbody tr');

/** Waits until the learnings table shows `n` rows (a filter has been applied by the daemon). */
async function learningRows(n: number) {
  for (let i = 0; i < 100; i++) {
    if ((await rowsOf('Learnings').count()) === n) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(await rowsOf('Learnings').count(), n);
}

test('console learnings: candidates published and rejected, list filtered, a learning revoked and one superseded, policy read-only', async () => {
  await step(page, 'learnings', async () => {
    await page.goto(`${d.url}/#/learnings`);
    await page.getByRole('heading', { level: 1, name: 'Learnings' }).waitFor();
    await page.waitForFunction("!document.querySelector('main .spinner')");

    // The policy, read-only, with the revision that set it.
    await page.getByText('Set at runtime revision #1 (current).').waitFor();
    await page.locator('.facts .badge', { hasText: 'enabled' }).waitFor();

    // Promoted skills, read-only: status and rollout counts.
    const skill = rowsOf('Promoted skills').filter({ hasText: 'release:check' });
    await skill.locator('.badge', { hasText: 'draft' }).waitFor();
    await skill.getByText('0 in 0 session(s)').waitFor();
    await skill.getByText('0 passed, 0 failed').waitFor();

    // Candidates: the escalated one and the pending one.
    const waiting = rowsOf('Candidates');
    await waiting.filter({ hasText: 'escalated' }).filter({ hasText: 'staging database' }).waitFor();
    await waiting.filter({ hasText: 'pending' }).filter({ hasText: 'Tuesdays' }).waitFor();
    await docShot(page, 'learnings');
    for (const theme of ['light', 'dark']) {
      await page.evaluate((t) => localStorage.setItem('kheish-air.theme', t), theme);
      await page.reload();
      await page.getByRole('table', { name: 'Candidates' }).waitFor();
      const found = await seriousViolations(page);
      assert.deepEqual(found, [], `${theme}:\n${explain(found)}`);
    }
    await page.evaluate(() => localStorage.setItem('kheish-air.theme', 'system'));

    await page.getByRole('button', { name: 'Publish: Deploys happen on Tuesdays.' }).click();
    await page.getByRole('button', { name: 'Reject: The staging database is reset nightly.' }).click();
    await page.getByText('No candidate is waiting').waitFor();
    const rejected = await api('GET', '/v1/learning-candidates?state=rejected');
    assert.deepEqual(
      rejected.map((c: { content: string }) => c.content),
      ['The staging database is reset nightly.'],
    );
    const learnings = rowsOf('Learnings');
    await learnings.filter({ hasText: 'Tuesdays' }).filter({ hasText: 'manual (operator)' }).waitFor();
    assert.equal(await learnings.count(), 4);

    // Filters go to the daemon.
    const filter = (label: string, value: string) =>
      page
        .getByRole('form', { name: 'Filter learnings' })
        .getByLabel(label, { exact: true })
        .selectOption(value);
    await filter('Kind', 'preference');
    await learningRows(1);
    await learnings.filter({ hasText: 'Answers should be short.' }).waitFor();
    await filter('Kind', '');
    // A session scope needs its id: the daemon's detail shows at the id field.
    await filter('Scope', 'session');
    await page.locator('#learning-scope-id-error', { hasText: 'needs scope_id' }).waitFor();
    await page.getByLabel('Scope id').fill('desk');
    await page.getByLabel('Scope id').press('Enter');
    await learningRows(1);
    await learnings.filter({ hasText: 'session:desk' }).waitFor();
    await filter('Scope', '');
    await page.getByLabel('Scope id').fill('');
    await page.getByLabel('Scope id').press('Enter');
    await filter('Status', 'revoked');
    await page.getByText('No learning matches.').waitFor();
    await filter('Status', '');
    await learningRows(4);

    // Revoke one.
    await page.getByRole('button', { name: 'Revoke: Deploys happen on Tuesdays.' }).click();
    await learnings.filter({ hasText: 'Tuesdays' }).locator('.badge', { hasText: 'revoked' }).waitFor();

    // Supersede another: an empty content is refused by the daemon, at the field.
    await page.getByRole('button', { name: 'Supersede: Answers should be short.' }).click();
    const content = page.getByLabel('New content');
    await content.fill('   ');
    await page.getByRole('button', { name: 'Publish the new version' }).click();
    await page.locator('#supersede-content-error', { hasText: 'content' }).waitFor();
    assert.equal(await content.getAttribute('aria-invalid'), 'true');
    await content.fill('Answers should be short, with a link to the source.');
    await page.getByRole('button', { name: 'Publish the new version' }).click();
    await learnings
      .filter({ hasText: 'with a link to the source' })
      .locator('.badge', { hasText: 'active' })
      .waitFor();
    await learnings
      .filter({ hasText: /^Answers should be short\.preference/ })
      .locator('.badge', { hasText: 'superseded' })
      .waitFor();
    const old = (await api('GET', '/v1/learnings?status=superseded')) as {
      content: string;
      superseded_by: string;
    }[];
    assert.equal(old.length, 1);
    assert.equal(old[0]!.content, 'Answers should be short.');
    assert.ok(old[0]!.superseded_by);
  });
});
