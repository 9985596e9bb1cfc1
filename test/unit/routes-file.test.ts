import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitModelSelector } from '../../src/cli/model-selector.ts';
import { RoutesFileError, validateRoutes } from '../../src/config/routes-file.ts';
import { RouteInventory, type RouteResolutionError } from '../../src/models/route-inventory.ts';

const two = {
  version: 1,
  default_route: 'a',
  routes: { a: { driver: 'scripted', default_model: 'm1' }, b: { driver: 'scripted', default_model: 'm2' } },
};

test('routes file: a valid file resolves script paths relative to the file', () => {
  const cfg = validateRoutes(
    { version: 1, routes: { x: { driver: 'scripted', default_model: 's', script_file: 's.json' } } },
    '/etc/k/routes.toml',
  );
  assert.equal(cfg.default_route, 'x');
  assert.equal(cfg.routes.get('x')!.script_file, '/etc/k/s.json');
});

test('routes file: every problem is reported, unknown keys rejected', () => {
  assert.throws(
    () =>
      validateRoutes(
        {
          version: 2,
          extra: 1,
          routes: { 'bad id': { driver: 'nope', default_model: '', colour: 'red', base_url: 'ftp://x' } },
        },
        '/r.toml',
      ),
    (err: Error) => {
      assert.ok(err instanceof RoutesFileError);
      for (const part of [
        'version',
        'unknown top-level field `extra`',
        'route id',
        'unknown driver',
        'default_model',
        'unknown field `colour`',
        'base_url',
      ])
        assert.match(err.message, new RegExp(part.replace(/[`()]/g, '.')));
      return true;
    },
  );
});

test('routes file: several routes need default_route; --default-route must name one', () => {
  assert.throws(() => validateRoutes({ ...two, default_route: undefined }, '/r.toml'), /default_route/);
  assert.throws(() => validateRoutes(two, '/r.toml', 'zzz'), /--default-route `zzz`/);
  assert.equal(validateRoutes(two, '/r.toml', 'b').default_route, 'b');
});

test('route precedence: run override > session policy > default; the model is kept as given', () => {
  const inv = new RouteInventory(validateRoutes(two, '/r.toml'));
  assert.deepEqual(inv.resolve({}, null), { route_id: 'a', model: 'm1' });
  assert.deepEqual(inv.resolve({}, { provider: 'b' }), { route_id: 'b', model: 'm2' });
  assert.deepEqual(inv.resolve({ provider: 'a' }, { provider: 'b', model: 'x' }), {
    route_id: 'a',
    model: 'm1',
  });
  // A prefix naming another route is part of the model name on the API (selectors are the CLI's).
  assert.deepEqual(inv.resolve({ model: 'b/vendor/model-1' }, null), {
    route_id: 'a',
    model: 'b/vendor/model-1',
  });
  assert.deepEqual(inv.resolve({ provider: 'a', model: 'b/m' }, null), { route_id: 'a', model: 'b/m' });
  assert.deepEqual(inv.resolve({}, { provider: 'b', model: 'a/m' }), { route_id: 'b', model: 'a/m' });
  assert.throws(
    () => inv.resolve({ provider: 'nope' }, null),
    (e: RouteResolutionError) => e.code === 'unknown_route',
  );
});

test('CLI model selector: a known route prefix names the route; unknown prefixes are raw models', () => {
  const routes = new Set(['openrouter', 'other']);
  assert.deepEqual(splitModelSelector({ model: 'openrouter/openai/gpt-5.4-mini' }, routes), {
    provider: 'openrouter',
    model: 'openai/gpt-5.4-mini',
  });
  assert.deepEqual(splitModelSelector({ model: 'vendor/m' }, routes), { model: 'vendor/m' });
  assert.deepEqual(splitModelSelector({ provider: 'other', model: 'other/m' }, routes), {
    provider: 'other',
    model: 'm',
  });
  assert.throws(() => splitModelSelector({ model: 'openrouter/' }, routes), /no model/);
  assert.throws(() => splitModelSelector({ provider: 'other', model: 'openrouter/m' }, routes), /--provider/);
  assert.deepEqual(splitModelSelector({ model: 'other/m', fallbackModel: 'other/f' }, routes), {
    provider: 'other',
    model: 'm',
    fallbackModel: 'f',
  });
  assert.throws(
    () => splitModelSelector({ model: 'other/m', fallbackModel: 'openrouter/f' }, routes),
    /--fallback-model names route/,
  );
});

test('a provider route without its driver yet is not ready', () => {
  const inv = new RouteInventory(
    validateRoutes(
      {
        version: 1,
        routes: { ant: { driver: 'anthropic', default_model: 'claude', auth_ref: 'anthropic.prod' } },
      },
      '/r.toml',
    ),
  );
  assert.equal(inv.get('ant')!.readiness, 'error');
  assert.throws(
    () => inv.resolve({}, null),
    (e: RouteResolutionError) => e.code === 'route_not_ready',
  );
});
