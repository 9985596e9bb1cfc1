// resolveCredentials: where a route's key comes from, and why it is missing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RouteConfig } from '../../src/config/routes-file.ts';
import { resolveCredentials } from '../../src/models/drivers/credentials.ts';

const route = (over: Partial<RouteConfig> & { extra?: Record<string, unknown> }): RouteConfig => ({
  route_id: 'r1',
  driver: 'openai',
  default_model: 'gpt-5.4',
  max_retries: 3,
  fallback_routes: [],
  context_window_tokens: 0,
  capabilities: {},
  extra: {},
  ...over,
});

test('auth_ref wins and reads structured OpenAI slots (organization/project)', () => {
  const c = resolveCredentials(route({ auth_ref: 'openai.prod', api_key: 'inline' }), {}, (ref) =>
    ref === 'openai.prod' ? { api_key: 'sk-slot', organization: 'org_1', project: 'proj_1' } : undefined,
  );
  assert.deepEqual(c, { apiKey: 'sk-slot', organization: 'org_1', project: 'proj_1', source: 'auth_ref' });
});

test('a missing or empty slot is reported, never replaced by another source', () => {
  const r = route({ auth_ref: 'gone', api_key_env: 'KEY' });
  assert.match(resolveCredentials(r, { KEY: 'x' }, () => undefined).missing!, /slot `gone`/);
  assert.match(resolveCredentials(r, { KEY: 'x' }, () => '').missing!, /slot `gone`/);
  assert.match(resolveCredentials(r, { KEY: 'x' }).missing!, /secret store/);
});

test('api_key_env reads the environment; an unset variable is named in the reason', () => {
  const r = route({ driver: 'anthropic', api_key_env: 'MY_ANTHROPIC_KEY' });
  assert.deepEqual(resolveCredentials(r, { MY_ANTHROPIC_KEY: 'sk-ant' }), {
    apiKey: 'sk-ant',
    source: 'api_key_env',
  });
  assert.match(resolveCredentials(r, {}).missing!, /MY_ANTHROPIC_KEY/);
});

test('inline api_key is used last', () => {
  assert.deepEqual(resolveCredentials(route({ driver: 'google', api_key: 'AIza' }), {}), {
    apiKey: 'AIza',
    source: 'api_key',
  });
});

test('OpenAI organization/project come from the route (or their _env) and beat the slot', () => {
  const r = route({
    api_key: 'sk',
    extra: { organization: 'org_route', project_env: 'PROJ' },
  });
  assert.deepEqual(resolveCredentials(r, { PROJ: 'proj_env' }), {
    apiKey: 'sk',
    organization: 'org_route',
    project: 'proj_env',
    source: 'api_key',
  });
  const slot = resolveCredentials({ ...r, auth_ref: 's' }, {}, () => ({
    api_key: 'k',
    organization: 'org_slot',
  }));
  assert.equal(slot.organization, 'org_route');
});

test('account-auth routes use the implicit route.<id> slot', () => {
  const r = route({ driver: 'anthropic', extra: { anthropic_auth_source: 'claude_code' } });
  assert.deepEqual(
    resolveCredentials(r, {}, (ref) => (ref === 'route.r1' ? 'sk-acct' : undefined)),
    { apiKey: 'sk-acct', source: 'account_slot' },
  );
  assert.match(resolveCredentials(r, {}, () => undefined).missing!, /route\.r1/);
});

test('openai_compatible needs no key; other drivers without any source are missing one', () => {
  assert.deepEqual(resolveCredentials(route({ driver: 'openai_compatible' }), {}), { source: 'none' });
  for (const driver of ['anthropic', 'openai', 'google', 'xai', 'openrouter'] as const)
    assert.match(resolveCredentials(route({ driver }), {}).missing!, /no credentials/);
});
