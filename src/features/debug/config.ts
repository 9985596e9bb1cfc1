// The debug store's policy from the environment (ops-runtime §3): retention, budgets, the capture
// key and the operator's redaction tokens. A malformed number refuses to start (ConfigError); a
// bad key or an unreadable token file does not: the daemon starts and refuses to enable the levels
// that would need them (decisions #151, #152), so evidence is never written unprotected.
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../config/serve-options.ts';
import { MasterKey } from '../../secrets/crypto.ts';

export const DAY_MS = 86_400_000;

export interface DebugBudgets {
  max_artifact_bytes: number;
  max_run_bytes: number;
  max_artifacts_per_run: number;
  /** 0 = no cap on the whole store. */
  max_store_bytes: number;
}

export type KeyState =
  | { state: 'none' }
  | { state: 'ok'; key: MasterKey; source: string }
  | { state: 'invalid'; source: string; error: string };

export interface DebugConfig {
  /** 0 disables the TTL cleanup. */
  ttl_ms: number;
  gc_interval_ms: number;
  budgets: DebugBudgets;
  key: KeyState;
  tokens: RedactTokens;
}

export const DEFAULT_BUDGETS: DebugBudgets = {
  max_artifact_bytes: 1024 * 1024,
  max_run_bytes: 16 * 1024 * 1024,
  max_artifacts_per_run: 512,
  max_store_bytes: 1024 * 1024 * 1024,
};

function wholeNumber(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min)
    throw new ConfigError(
      `${name} must be a whole number${min > 0 ? ` of at least ${min}` : ''} (got "${raw}")`,
    );
  return Number(raw);
}

export function debugConfigFromEnv(env: NodeJS.ProcessEnv = process.env): DebugConfig {
  const ttl = wholeNumber(env, 'KHEISH_DEBUG_TTL_MS', 7 * DAY_MS, 0);
  return {
    ttl_ms: ttl,
    // Hourly by default, but never longer than the TTL itself (a short TTL is checked as often).
    gc_interval_ms: wholeNumber(env, 'KHEISH_DEBUG_GC_INTERVAL_MS', Math.min(3_600_000, ttl || 3_600_000), 1),
    budgets: {
      max_artifact_bytes: wholeNumber(
        env,
        'KHEISH_DEBUG_MAX_ARTIFACT_BYTES',
        DEFAULT_BUDGETS.max_artifact_bytes,
        1,
      ),
      max_run_bytes: wholeNumber(env, 'KHEISH_DEBUG_MAX_RUN_BYTES', DEFAULT_BUDGETS.max_run_bytes, 1),
      max_artifacts_per_run: wholeNumber(
        env,
        'KHEISH_DEBUG_MAX_ARTIFACTS_PER_RUN',
        DEFAULT_BUDGETS.max_artifacts_per_run,
        1,
      ),
      max_store_bytes: wholeNumber(env, 'KHEISH_DEBUG_MAX_STORE_BYTES', DEFAULT_BUDGETS.max_store_bytes, 0),
    },
    key: loadCaptureKey(env),
    tokens: new RedactTokens(env),
  };
}

const KEY_ENV = 'KHEISH_DEBUG_CAPTURE_KEY';
const KEY_FILE_ENV = 'KHEISH_DEBUG_CAPTURE_KEY_FILE';

/** 32 bytes as `secrets generate` prints them (standard base64) or as 64 hex digits. */
export function loadCaptureKey(env: NodeJS.ProcessEnv): KeyState {
  const inline = env[KEY_ENV]?.trim() || undefined;
  const file = env[KEY_FILE_ENV]?.trim() || undefined;
  if (inline && file)
    return {
      state: 'invalid',
      source: KEY_ENV,
      error: `both ${KEY_ENV} and ${KEY_FILE_ENV} are set; set one`,
    };
  if (!inline && !file) return { state: 'none' };
  const source = inline ? KEY_ENV : `${KEY_FILE_ENV} (${file})`;
  let text = inline;
  if (file) {
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch (err) {
      return {
        state: 'invalid',
        source,
        error: `cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      };
    }
  }
  const raw = /^[A-Za-z0-9+/]{43}=$/.test(text!)
    ? Buffer.from(text!, 'base64')
    : /^[0-9a-fA-F]{64}$/.test(text!)
      ? Buffer.from(text!, 'hex')
      : null;
  if (!raw)
    return {
      state: 'invalid',
      source,
      // Never echo the text: it may be a real key pasted in the wrong format.
      error: `expected 32 bytes as standard base64 (what \`kheish-daemon secrets generate\` prints) or 64 hex digits, got ${text!.length} characters`,
    };
  return { state: 'ok', key: new MasterKey(raw, source), source };
}

const TOKENS_ENV = 'KHEISH_DEBUG_REDACT_TOKENS';
const TOKENS_FILE_ENV = 'KHEISH_DEBUG_REDACT_TOKENS_FILE';
/** The token file is read again at most this often while capture renders artifacts. */
const TOKENS_FILE_RECHECK_MS = 1000;

const splitTokens = (text: string) =>
  text
    .split(/[,\n]/)
    .map((t) => t.trim())
    .filter(Boolean);

/** The operator's literal redaction tokens: inline ones, plus a file read again as it changes. */
export class RedactTokens {
  private readonly inline: string[];
  readonly file: string | null;
  private cached: { at: number; tokens: string[] | null; error: string | null } | null = null;

  constructor(env: NodeJS.ProcessEnv) {
    this.inline = splitTokens(env[TOKENS_ENV] ?? '');
    this.file = env[TOKENS_FILE_ENV]?.trim() || null;
  }

  /** The tokens now, or an error when the file is configured but unreadable (capture fails closed). */
  current(now = Date.now()): { tokens: string[] } | { error: string } {
    if (!this.file) return { tokens: this.inline };
    if (!this.cached || now - this.cached.at >= TOKENS_FILE_RECHECK_MS) {
      try {
        const fromFile = splitTokens(readFileSync(this.file, 'utf8'));
        this.cached = { at: now, tokens: [...this.inline, ...fromFile], error: null };
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'error';
        this.cached = {
          at: now,
          tokens: null,
          error: `cannot read ${TOKENS_FILE_ENV} ${this.file} (${code})`,
        };
      }
    }
    return this.cached.tokens ? { tokens: this.cached.tokens } : { error: this.cached.error! };
  }

  /** What GET /v1/runtime shows (counts and sources, never a token). */
  status(): Record<string, unknown> {
    const now = this.current();
    return {
      literal_token_count: 'tokens' in now ? now.tokens.length : this.inline.length,
      inline_token_count: this.inline.length,
      token_file_configured: this.file !== null,
      ...('error' in now ? { token_file_error: now.error } : {}),
    };
  }
}
