// What a child-process sidecar starts with (api-collab §6.7–§6.8): the daemon's environment minus
// provider credentials and the daemon's own settings, plus the connector's `env`, the connection
// facts it needs, and — when it has credential slots — one grant token and the list of keys it may
// fetch (never the secret values). Also the redaction of what the child writes to its pipes.
import { isAbsolute, resolve } from 'node:path';
import type { ChildProcessSettings } from './settings.ts';

/** Provider and cloud credential families the daemon may hold; none reach a sidecar. */
const PROVIDER_PREFIX =
  /^(OPENAI|ANTHROPIC|CLAUDE|GOOGLE|GEMINI|VERTEX|XAI|GROK|OPENROUTER|AZURE|AWS|MISTRAL|GROQ|DEEPSEEK|COHERE|TOGETHER|FIREWORKS|PERPLEXITY|HF|HUGGINGFACE|HUGGING_FACE|OLLAMA|LLAMA|VLLM|GITHUB|GH|SLACK|TELEGRAM|DISCORD)_/i;
/** Anything that looks like a credential, whoever it belongs to. */
const SECRET_SUFFIX = /(API_?KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?|PRIVATE_KEY|AUTH)$/i;

export function strippedEnv(base: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) {
    if (v === undefined) continue;
    // The daemon's own settings (tokens, master key, database URL) are not the sidecar's business.
    if (k.startsWith('KHEISH_')) continue;
    if (PROVIDER_PREFIX.test(k) || SECRET_SUFFIX.test(k)) continue;
    if (/^(DATABASE_URL|PG[A-Z]*|NODE_OPTIONS)$/.test(k)) continue;
    out[k] = v;
  }
  return out;
}

export interface LaunchFacts {
  connector: string;
  base_url: string;
  daemon_url: string;
  launch_id: string;
  shared_token: string | null;
  grant: { token: string; env_keys: string[] } | null;
}

export function childEnv(
  base: NodeJS.ProcessEnv,
  cp: ChildProcessSettings,
  f: LaunchFacts,
): Record<string, string> {
  const env: Record<string, string> = { ...strippedEnv(base), ...cp.env };
  const u = new URL(f.base_url);
  Object.assign(env, {
    KHEISH_EXTERNAL_CONNECTOR_NAME: f.connector,
    KHEISH_EXTERNAL_CONNECTOR_BASE_URL: f.base_url,
    KHEISH_EXTERNAL_CONNECTOR_HOST: u.hostname.replace(/^\[|\]$/g, ''),
    KHEISH_EXTERNAL_CONNECTOR_PORT: u.port || (u.protocol === 'https:' ? '443' : '80'),
    KHEISH_DAEMON_URL: f.daemon_url,
    KHEISH_EXTERNAL_CONNECTOR_LAUNCH_ID: f.launch_id,
  });
  if (f.shared_token !== null) env.KHEISH_EXTERNAL_CONNECTOR_SHARED_TOKEN = f.shared_token;
  if (f.grant) {
    env.KHEISH_EXTERNAL_CONNECTOR_CREDENTIAL_TOKEN = f.grant.token;
    env.KHEISH_EXTERNAL_CONNECTOR_CREDENTIAL_KEYS_JSON = JSON.stringify(f.grant.env_keys);
  }
  return env;
}

/** The child's working directory: as configured (relative to the daemon's), else the daemon's. */
export function childCwd(cp: ChildProcessSettings): string {
  if (!cp.working_dir) return process.cwd();
  return isAbsolute(cp.working_dir) ? cp.working_dir : resolve(process.cwd(), cp.working_dir);
}

const MAX_LINE = 2000;

/** Replaces known secret values and bearer-looking material in one line of child output. */
export function redactLine(line: string, secrets: readonly string[]): string {
  let out = line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}…` : line;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('[REDACTED]');
  return out
    .replace(/(bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, '$1[REDACTED]')
    .replace(/((?:token|secret|password|api[_-]?key)["']?\s*[:=]\s*["']?)[^\s"',]{4,}/gi, '$1[REDACTED]');
}
