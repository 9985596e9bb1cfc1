// Slack request signing (Events API): `X-Slack-Signature: v0=<hex HMAC-SHA256(signing secret,
// "v0:<X-Slack-Request-Timestamp>:<raw body>")>`, and a timestamp within five minutes of now in
// either direction (a captured request cannot be replayed later, a forged clock cannot pre-date one).
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SLACK_SIGNATURE_WINDOW_SECS = 300;

export type SlackSignatureCheck = 'ok' | 'missing' | 'malformed' | 'stale' | 'invalid';

export function slackSignature(secret: string, timestamp: string, rawBody: Uint8Array | string): string {
  const mac = createHmac('sha256', secret);
  mac.update(`v0:${timestamp}:`);
  mac.update(rawBody);
  return `v0=${mac.digest('hex')}`;
}

/** Header values as Node gives them: a repeated header is an array (refused: which one is signed?). */
type HeaderValue = string | string[] | undefined;

export function verifySlackSignature(
  secret: string,
  timestampHeader: HeaderValue,
  signatureHeader: HeaderValue,
  rawBody: Uint8Array,
  nowSecs = Math.floor(Date.now() / 1000),
): SlackSignatureCheck {
  if (timestampHeader === undefined || signatureHeader === undefined) return 'missing';
  if (Array.isArray(timestampHeader) || Array.isArray(signatureHeader)) return 'malformed';
  const ts = timestampHeader.trim();
  if (!/^\d{1,12}$/.test(ts)) return 'malformed';
  const sig = signatureHeader.trim();
  if (!/^v0=[0-9a-fA-F]{64}$/.test(sig)) return 'malformed';
  if (Math.abs(nowSecs - Number(ts)) > SLACK_SIGNATURE_WINDOW_SECS) return 'stale';
  const expected = Buffer.from(slackSignature(secret, ts, rawBody).slice(3), 'hex');
  const given = Buffer.from(sig.slice(3), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected) ? 'ok' : 'invalid';
}
