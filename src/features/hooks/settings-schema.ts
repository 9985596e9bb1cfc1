// Hook settings (ops-runtime §7.3, api-core §11.2): the wire shape, the checks made before a value
// may become a runtime revision, and what summaries may show of it. Persisted as the versioned
// envelope `{"schema_version": 1, "hooks": {...}}`; a legacy flat `{"hooks": {...}}` is still read.
import { isIP } from 'node:net';
import { z } from 'zod';
import { HOOK_EVENTS, type HookEvent } from '../../engine/hook-port.ts';
import { DaemonError } from '../../errors/daemon-error.ts';
import { forbiddenAddressReason } from '../../tools/web/ip-policy.ts';
import { checkUrl, isLocalHostName, WebPolicyError } from '../../tools/web/target-policy.ts';
import { compileMatcher } from './matcher.ts';

export const MAX_TIMEOUT_MS = 30_000;
export const MAX_RETRIES = 3;
export const DEFAULT_TIMEOUT_MS = {
  command: 5_000,
  http: 5_000,
  prompt: 15_000,
  agent: 30_000,
  callback: 5_000,
};

const timeout_ms = z.number().int().optional();
const ModelChoice = z
  .object({
    provider: z.string().optional(),
    model: z.string().optional(),
    generation: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
const ToolSurface = z.union([
  z.array(z.string()),
  z.object({ allow: z.array(z.string()).optional(), deny: z.array(z.string()).optional() }).strict(),
]);

export const HookExecutor = z.discriminatedUnion('type', [
  z
    .object({ type: z.literal('command'), command: z.string(), shell: z.string().optional(), timeout_ms })
    .strict(),
  z
    .object({
      type: z.literal('http'),
      url: z.string(),
      headers: z.record(z.string(), z.string()).optional(),
      timeout_ms,
    })
    .strict(),
  z
    .object({
      type: z.literal('prompt'),
      template: z.string(),
      system_prompt: z.string().optional(),
      model: ModelChoice.optional(),
      timeout_ms,
    })
    .strict(),
  z
    .object({
      type: z.literal('agent'),
      template: z.string(),
      system_prompt: z.string().optional(),
      model: ModelChoice.optional(),
      tool_surface: ToolSurface.optional(),
      max_turns: z.number().int().optional(),
      timeout_ms,
    })
    .strict(),
  z.object({ type: z.literal('callback'), name: z.string(), timeout_ms }).strict(),
]);
export type HookExecutor = z.infer<typeof HookExecutor>;

export const HookDefinition = z
  .object({
    name: z.string(),
    matcher: z.string().optional(),
    failure_policy: z
      .object({ mode: z.enum(['open', 'closed']).optional(), max_retries: z.number().int().optional() })
      .strict()
      .optional(),
    executor: HookExecutor,
  })
  .strict();
export type HookDefinition = z.infer<typeof HookDefinition>;

export interface HookSettingsValue {
  schema_version: 1;
  hooks: Partial<Record<HookEvent, HookDefinition[]>>;
}

const Envelope = z
  .object({
    schema_version: z.literal(1).optional(),
    hooks: z.record(z.string(), z.array(z.unknown())),
  })
  .strict();

const invalid = (detail: string) => new DaemonError(400, 'runtime', 'invalid_hook_settings', detail);

/** The private-target exemptions of the test-only override (see http-executor.ts). */
export interface TargetExemptions {
  exempt(host: string, port: number): boolean;
}

/**
 * Parses and checks a settings value (envelope or legacy flat); returns the versioned envelope or
 * throws 400 runtime/invalid_hook_settings naming every problem found.
 */
export function validateHookSettings(raw: unknown, targets: TargetExemptions): HookSettingsValue {
  const env = Envelope.safeParse(raw);
  if (!env.success)
    throw invalid(`hook settings must be {"hooks": {<event>: [hook, ...]}}: ${z.prettifyError(env.error)}`);
  const problems: string[] = [];
  const hooks: HookSettingsValue['hooks'] = {};
  for (const [event, list] of Object.entries(env.data.hooks)) {
    if (!(HOOK_EVENTS as readonly string[]).includes(event)) {
      problems.push(`unknown hook event \`${event}\` (known: ${HOOK_EVENTS.join(', ')})`);
      continue;
    }
    const names = new Set<string>();
    const defs: HookDefinition[] = [];
    list.forEach((item, i) => {
      const where = `hooks.${event}[${i}]`;
      const parsed = HookDefinition.safeParse(item);
      if (!parsed.success) {
        problems.push(`${where}: ${z.prettifyError(parsed.error).replaceAll('\n', ' ')}`);
        return;
      }
      const def = parsed.data;
      problems.push(...checkDefinition(def, targets).map((p) => `${where}: ${p}`));
      if (names.has(def.name)) problems.push(`${where}: the name \`${def.name}\` is used twice for ${event}`);
      names.add(def.name);
      defs.push(def);
    });
    if (defs.length > 0) hooks[event as HookEvent] = defs;
  }
  if (problems.length > 0) throw invalid(problems.join('; '));
  return { schema_version: 1, hooks };
}

function checkDefinition(def: HookDefinition, targets: TargetExemptions): string[] {
  const out: string[] = [];
  const ex = def.executor;
  if (def.name.trim() === '') out.push('`name` must not be empty');
  const timeout = ex.timeout_ms;
  if (timeout !== undefined && (timeout <= 0 || timeout > MAX_TIMEOUT_MS))
    out.push(`\`executor.timeout_ms\` must be between 1 and ${MAX_TIMEOUT_MS}, not ${timeout}`);
  const retries = def.failure_policy?.max_retries;
  if (retries !== undefined && (retries < 0 || retries > MAX_RETRIES))
    out.push(`\`failure_policy.max_retries\` must be between 0 and ${MAX_RETRIES}, not ${retries}`);
  if (def.matcher !== undefined) {
    const m = compileMatcher(def.matcher);
    if (typeof m === 'string') out.push(m);
  }
  switch (ex.type) {
    case 'command':
      if (ex.command.trim() === '') out.push('`executor.command` must not be empty');
      if (ex.shell !== undefined && !ex.shell.startsWith('/'))
        out.push('`executor.shell` must be an absolute path');
      break;
    case 'http': {
      const unsafe = unsafeTarget(ex.url, targets);
      if (unsafe) out.push(`\`executor.url\` is not a safe hook target: ${unsafe}`);
      for (const h of Object.keys(ex.headers ?? {}))
        if (
          ['host', 'content-length', 'content-type', 'idempotency-key', 'transfer-encoding'].includes(
            h.toLowerCase(),
          )
        )
          out.push(`header \`${h}\` is set by the daemon`);
      break;
    }
    case 'prompt':
      if (ex.template.trim() === '') out.push('`executor.template` must not be empty');
      break;
    case 'agent': {
      if (ex.template.trim() === '') out.push('`executor.template` must not be empty');
      if (ex.max_turns !== undefined && ex.max_turns < 1) out.push('`executor.max_turns` must be at least 1');
      const s = ex.tool_surface;
      if (s && !Array.isArray(s) && s.allow === undefined)
        out.push('`executor.tool_surface` needs an explicit `allow` list (a deny list alone is refused)');
      break;
    }
    case 'callback':
      if (ex.name.trim() === '') out.push('`executor.name` must not be empty');
      break;
  }
  return out;
}

/** Why an HTTP hook URL may not be used (without DNS: names are vetted again at each call). */
export function unsafeTarget(raw: string, targets: TargetExemptions): string | null {
  let url: URL;
  try {
    url = checkUrl(raw);
  } catch (e) {
    return e instanceof WebPolicyError ? e.message : String(e);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  if (targets.exempt(host, port)) return null;
  if (isIP(host)) {
    const reason = forbiddenAddressReason(host);
    return reason ? `${host} is ${reason}` : null;
  }
  if (isLocalHostName(host)) return `${host} is a local host name`;
  return null;
}

/** Reads a persisted value: the envelope, or the legacy flat shape (rewritten on the next save). */
export function readPersisted(raw: unknown, targets: TargetExemptions): HookSettingsValue {
  return validateHookSettings(raw, targets);
}

/** What /v1/runtime, /v1/status and revisions show: names, matchers, policies; never bodies. */
export function redactHookSettings(value: unknown): unknown {
  const v = value as Partial<HookSettingsValue> | null;
  if (!v || typeof v !== 'object' || !v.hooks) return value;
  const hooks: Record<string, unknown[]> = {};
  for (const [event, defs] of Object.entries(v.hooks)) {
    hooks[event] = (defs ?? []).map((d) => ({
      name: d.name,
      ...(d.matcher !== undefined ? { matcher: d.matcher } : {}),
      failure_policy: {
        mode: d.failure_policy?.mode ?? 'open',
        max_retries: d.failure_policy?.max_retries ?? 0,
      },
      executor: { type: d.executor?.type, redacted: true },
    }));
  }
  return { schema_version: 1, hooks };
}
