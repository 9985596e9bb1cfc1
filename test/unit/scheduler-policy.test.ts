// `serve` scheduler retry flags (ops-runtime §2.4): flag > KHEISH_SCHEDULER_RETRY_* > default.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveSchedulerPolicy, schedulerPolicyOptions } from '../../src/config/scheduler-policy.ts';
import { ConfigError, resolveServeConfig } from '../../src/config/serve-options.ts';

test('defaults are the reference daemon’s', () => {
  assert.deepEqual(resolveSchedulerPolicy({}, {}), {
    retry_base_delay_ms: 500,
    retry_max_delay_ms: 30_000,
    retry_jitter_ms: 250,
    retry_max_attempts: 0,
  });
});

test('environment, then flags, win over defaults', () => {
  const env = { KHEISH_SCHEDULER_RETRY_BASE_DELAY_MS: '100', KHEISH_SCHEDULER_RETRY_MAX_ATTEMPTS: '4' };
  assert.deepEqual(
    resolveSchedulerPolicy({ schedulerRetryMaxAttempts: '2', schedulerRetryJitterMs: '0' }, env),
    {
      retry_base_delay_ms: 100,
      retry_max_delay_ms: 30_000,
      retry_jitter_ms: 0,
      retry_max_attempts: 2,
    },
  );
  assert.equal(resolveServeConfig({}, env).schedulerPolicy.retry_base_delay_ms, 100);
});

test('bad values are configuration errors naming the flag', () => {
  assert.throws(
    () => resolveSchedulerPolicy({ schedulerRetryJitterMs: '-1' }, {}),
    (e: unknown) => e instanceof ConfigError && /--scheduler-retry-jitter-ms/.test((e as Error).message),
  );
  assert.throws(
    () => resolveSchedulerPolicy({}, { KHEISH_SCHEDULER_RETRY_MAX_DELAY_MS: 'soon' }),
    ConfigError,
  );
  assert.throws(
    () => resolveSchedulerPolicy({ schedulerRetryMaxDelayMs: '100' }, {}),
    /must be ≥ --scheduler-retry-base-delay-ms/,
  );
});

test('the four flags are offered to `serve`', () => {
  assert.deepEqual(
    schedulerPolicyOptions().map(([flag]) => flag.split(' ')[0]),
    [
      '--scheduler-retry-base-delay-ms',
      '--scheduler-retry-max-delay-ms',
      '--scheduler-retry-jitter-ms',
      '--scheduler-retry-max-attempts',
    ],
  );
});
