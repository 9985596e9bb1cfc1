// Scheduler dispatch retry policy (ops-runtime §2.4): `serve` flags with `KHEISH_SCHEDULER_*`
// environment fallbacks. Precedence: flag > environment > default (the reference daemon's).
import { ConfigError } from './serve-options.ts';

export interface SchedulerRetryPolicy {
  retry_base_delay_ms: number;
  retry_max_delay_ms: number;
  retry_jitter_ms: number;
  /** 0 = retry without limit. */
  retry_max_attempts: number;
}

const OPTIONS: Array<{
  key: keyof SchedulerRetryPolicy;
  flag: string;
  camel: string;
  fallback: number;
  help: string;
}> = [
  {
    key: 'retry_base_delay_ms',
    flag: 'base-delay-ms',
    camel: 'BaseDelayMs',
    fallback: 500,
    help: 'first retry delay of a failed schedule dispatch',
  },
  {
    key: 'retry_max_delay_ms',
    flag: 'max-delay-ms',
    camel: 'MaxDelayMs',
    fallback: 30_000,
    help: 'cap of the exponential retry delay',
  },
  {
    key: 'retry_jitter_ms',
    flag: 'jitter-ms',
    camel: 'JitterMs',
    fallback: 250,
    help: 'deterministic jitter added to each retry delay',
  },
  {
    key: 'retry_max_attempts',
    flag: 'max-attempts',
    camel: 'MaxAttempts',
    fallback: 0,
    help: 'attempts before an occurrence is given up (0 = never give up)',
  },
];

/** [flag, help] pairs for commander. */
export function schedulerPolicyOptions(): Array<[string, string]> {
  return OPTIONS.map((o) => {
    const env = `KHEISH_SCHEDULER_RETRY_${o.flag.replaceAll('-', '_').toUpperCase()}`;
    return [`--scheduler-retry-${o.flag} <n>`, `${o.help} [env ${env}] (default ${o.fallback})`];
  });
}

export function resolveSchedulerPolicy(
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
): SchedulerRetryPolicy {
  const out = {} as SchedulerRetryPolicy;
  for (const o of OPTIONS) {
    const flag = flags[`schedulerRetry${o.camel}`];
    const envName = `KHEISH_SCHEDULER_RETRY_${o.flag.replaceAll('-', '_').toUpperCase()}`;
    const raw = typeof flag === 'string' && flag !== '' ? flag : env[envName] || undefined;
    if (raw === undefined) {
      out[o.key] = o.fallback;
      continue;
    }
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < 0)
      throw new ConfigError(`--scheduler-retry-${o.flag} must be a whole number ≥ 0 (got "${raw}")`);
    out[o.key] = n;
  }
  if (out.retry_max_delay_ms < out.retry_base_delay_ms)
    throw new ConfigError(
      `--scheduler-retry-max-delay-ms (${out.retry_max_delay_ms}) must be ≥ --scheduler-retry-base-delay-ms (${out.retry_base_delay_ms})`,
    );
  return out;
}
