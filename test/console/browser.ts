// Real-browser harness for the console tests: playwright-core driving Debian's Chromium
// (/usr/bin/chromium, installed by .ci/run) with a fresh profile, one browser per test file.
// Screenshots go to test/console/screenshots/ (gitignored) on failure, and to docs/console/ when
// KHEISH_CONSOLE_DOCS_SHOTS=1 (the pictures docs/console.md shows).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { http, type TestDaemon } from '../helpers/daemon.ts';

const ROOT = resolve(import.meta.dirname, '../..');
export const CHROMIUM = process.env.KHEISH_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = join(ROOT, 'test/console/screenshots');
const DOC_SHOTS = join(ROOT, 'docs/console');

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** One Chromium with a fresh profile folder (removed on close) and one page at 1280×800. */
export async function openBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'kheish-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 800 },
    // The console's CSP allows scripts from its origin only; axe-core is injected by the test.
    bypassCSP: true,
    timeout: 30_000,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15_000);
  return {
    context,
    page,
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a screenshot under test/console/screenshots/<name>.png (failures, debugging). */
export async function failureShot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true }).catch(() => undefined);
}

/** Saves docs/console/<name>.png when the docs pictures are being refreshed. */
export async function docShot(page: Page, name: string): Promise<void> {
  if (process.env.KHEISH_CONSOLE_DOCS_SHOTS !== '1') return;
  mkdirSync(DOC_SHOTS, { recursive: true });
  await page.screenshot({ path: join(DOC_SHOTS, `${name}.png`) });
}

/** Runs `body`; on failure saves a screenshot named after the step, then rethrows. */
export async function step<T>(page: Page, name: string, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    await failureShot(page, name);
    throw err;
  }
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** axe-core's serious and critical violations on the page as it is now (WCAG 2.1 A/AA rules). */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.addScriptTag({ content: AXE_SOURCE });
  const result = (await page.evaluate(async () => {
    const g = globalThis as unknown as {
      axe: { run(ctx: unknown, opts: unknown): Promise<unknown> };
      document: unknown;
    };
    return g.axe.run(g.document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
  })) as { violations: AxeViolation[] };
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** A readable list of violations for an assertion message. */
export const explain = (vs: AxeViolation[]) =>
  vs
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
    .join('\n');

/** A free loopback port (for a daemon that must come back on the same address after a restart). */
export { freePort } from '../helpers/external-sidecar.ts';

/** Closes the test file's browser, then kills the daemon and removes its state (an `after` hook). */
export async function closeAll(b: Browser | undefined, d: TestDaemon | undefined): Promise<void> {
  await b?.close();
  await d?.kill();
  await d?.cleanup();
}

/** A daemon call that must succeed (any 2xx); returns the answer's body. */
export async function okCall(url: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await http(url, method, path, body);
  assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
  return res.body;
}

/**
 * A scripted-model rule: a message containing `match` makes the model ask one multiple-choice
 * question (`ask_user_question`; each option's id is its label in lower case), then say `then`.
 */
export function askRule(
  match: string,
  q: { id: string; header: string; question: string; options: string[] },
  then: string,
) {
  const options = q.options.map((label) => ({ id: label.toLowerCase(), label }));
  const question = { ...q, options };
  return {
    match,
    turns: [
      { tool_calls: [{ name: 'ask_user_question', arguments: { questions: [question] } }] },
      { text: then },
    ],
  };
}
