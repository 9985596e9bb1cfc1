// Shared steps of the Slack and Telegram connector tests: creating connectors through the runtime
// API, sending signed Slack events and Telegram updates to a daemon, waiting for what the fixture
// servers receive.
import assert from 'node:assert/strict';
import { slackSignedHeaders } from '../fixtures/chat/slack-api-server.ts';
import { type HttpResult, http } from './daemon.ts';

export const SLACK_SECRET = 'slack-signing-secret-for-tests';
export const SLACK_TOKEN = 'xoxb-test-bot-token';
export const TELEGRAM_TOKEN = '123456:telegram-test-token';
export const TELEGRAM_SECRET = 'telegram-webhook-secret-for-tests';

export async function putConnector(
  url: string,
  kind: 'slack' | 'telegram',
  name: string,
  body: Record<string, unknown>,
): Promise<HttpResult> {
  const r = await http(url, 'PUT', `/v1/runtime/connectors/${kind}/${name}`, body);
  assert.equal(r.status, 200, `PUT ${kind}/${name}: ${r.text}`);
  return r;
}

/** POSTs a Slack Events API body, signed now (or at `timestamp`) with `secret`. */
export function slackPost(
  url: string,
  name: string,
  body: unknown,
  o: { secret?: string; timestamp?: number; headers?: Record<string, string> } = {},
): Promise<HttpResult> {
  const raw = JSON.stringify(body);
  return http(url, 'POST', `/v1/connectors/slack/${name}`, raw, {
    ...slackSignedHeaders(o.secret ?? SLACK_SECRET, raw, o.timestamp),
    ...(o.headers ?? {}),
  });
}

export function telegramPost(
  url: string,
  name: string,
  update: unknown,
  secret: string | null = TELEGRAM_SECRET,
): Promise<HttpResult> {
  return http(url, 'POST', `/v1/connectors/telegram/${name}`, JSON.stringify(update), {
    'content-type': 'application/json',
    ...(secret !== null ? { 'x-telegram-bot-api-secret-token': secret } : {}),
  });
}

/** Polls `check` until it returns a truthy value (or throws after `timeoutMs`). */
export async function eventually<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs = 15_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every run of the daemon (the list is a plain array unless paginated). */
export async function allRuns(url: string): Promise<any[]> {
  const r = await http(url, 'GET', '/v1/runs');
  assert.equal(r.status, 200, r.text);
  return Array.isArray(r.body) ? r.body : r.body.items;
}

/** Runs of a session, oldest first. */
export async function runsOf(url: string, sessionId: string): Promise<any[]> {
  const r = await http(url, 'GET', `/v1/runs?session_id=${encodeURIComponent(sessionId)}&limit=100`);
  const items = Array.isArray(r.body) ? r.body : (r.body?.items ?? []);
  return [...items].sort((a: any, b: any) => (a.created_at_ms ?? 0) - (b.created_at_ms ?? 0));
}
