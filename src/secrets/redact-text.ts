// Masks for free text (debug artifacts, recovered run memory, learnings): known credential shapes
// (provider keys, JWTs, bearer headers, PEM keys, secret query parameters, `api_key=...`
// assignments) and personal data (e-mail addresses, SSN-, card- and phone-like numbers, inline
// media). One set of patterns, so what debug capture hides is what memory hides.
import { createHash } from 'node:crypto';
import { isSecretKey, REDACTED } from '../engine/trace-redact.ts';

const digest = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

const TOKEN_SHAPES: RegExp[] = [
  // Provider and platform keys by prefix.
  /(?<![\w-])(?:sk-ant-|sk-proj-|sk-|ghp_|gho_|github_pat_|xox[abprs]-|AKIA)[A-Za-z0-9_-]{8,}/g,
  // JWTs.
  /(?<![\w-])eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
];
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi;
const PEM = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g;
const SECRET_QUERY =
  /([?&](?:key|api_key|apikey|token|access_token|sig|signature|secret|password)=)[^&\s"'<>]+/gi;
const ASSIGNMENT = /\b([A-Za-z][A-Za-z0-9_.-]*)(\s*[=:]\s*)("?)([^\s"',;]{6,})\3/g;

/** Credential shapes in free text replaced by a marker. */
export function maskTokenShapes(text: string): string {
  let out = text;
  for (const re of TOKEN_SHAPES) out = out.replace(re, REDACTED);
  out = out.replace(BEARER, (_m, scheme: string) => `${scheme} ${REDACTED}`);
  out = out.replace(PEM, '[redacted:private-key]');
  out = out.replace(SECRET_QUERY, (_m, head: string) => `${head}${REDACTED}`);
  // `API_KEY=...`, `password: ...` in free text.
  out = out.replace(ASSIGNMENT, (m, name: string, sep: string, q: string) =>
    isSecretKey(name) ? `${name}${sep}${q}${REDACTED}${q}` : m,
  );
  return out;
}

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
const SSN = /\b\d{3}-\d{2}-\d{4}\b/g;
const CARD = /\b(?:\d[ -]?){12,18}\d\b/g;
// Phone-like: an optional `+country`, an optional `(area)`, then 2-6 digit groups joined by a space
// or a dash; 9 to 15 digits in all (E.164). Dates, times, versions and IP addresses are left alone.
const PHONE =
  /(?<![\w+.:-])(?:\+\d{1,3}[ -]?)?(?:\(\d{1,4}\)[ -]?)?\d{1,4}(?:[ -]\d{1,4}){1,5}(?![\w.:-]?\d)/g;
const DATE_LIKE = /^\d{4}-\d{2}-\d{2}/;
const DATA_URL = /data:((?:image|audio|video)\/[\w.+-]+);base64,([A-Za-z0-9+/=]+)/g;
const LONG_BASE64 = /[A-Za-z0-9+/]{512,}={0,2}/g;

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** Personal data and inline media in free text replaced by typed markers. */
export function maskPersonalData(text: string): string {
  return text
    .replace(
      DATA_URL,
      (_m, type: string, b64: string) =>
        `[redacted:${type} base64 chars=${b64.length} sha256=${digest(b64)}]`,
    )
    .replace(LONG_BASE64, (m) => `[redacted:base64 chars=${m.length} sha256=${digest(m)}]`)
    .replace(EMAIL, '[redacted:email]')
    .replace(SSN, '[redacted:ssn]')
    .replace(CARD, (m) => {
      const digits = m.replace(/\D/g, '');
      return digits.length >= 13 && digits.length <= 19 && luhn(digits) ? '[redacted:card]' : m;
    })
    .replace(PHONE, (m) => {
      const digits = m.replace(/\D/g, '').length;
      // Bare digit runs (ids, amounts) never match: the pattern needs a separator between groups.
      return digits >= 9 && digits <= 15 && !DATE_LIKE.test(m) ? '[redacted:phone]' : m;
    });
}
