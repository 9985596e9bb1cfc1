import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RoutesFileError, validateRoutes } from '../../src/config/routes-file.ts';
import { RouteInventory, RouteResolutionError } from '../../src/models/route-inventory.ts';

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

test('route precedence: run override > session policy > default; selectors pick routes', () => {
  const inv = new RouteInventory(validateRoutes(two, '/r.toml'));
  assert.deepEqual(inv.resolve({}, null), { route_id: 'a', model: 'm1' });
  assert.deepEqual(inv.resolve({}, { provider: 'b' }), { route_id: 'b', model: 'm2' });
  assert.deepEqual(inv.resolve({ provider: 'a' }, { provider: 'b', model: 'x' }), {
    route_id: 'a',
    model: 'm1',
  });
  assert.deepEqual(inv.resolve({ model: 'b/vendor/model-1' }, null), {
    route_id: 'b',
    model: 'vendor/model-1',
  });
  assert.deepEqual(inv.resolve({ model: 'other/model' }, null), { route_id: 'a', model: 'other/model' });
  assert.throws(() => inv.resolve({ model: 'b/' }, null), RouteResolutionError);
  assert.throws(() => inv.resolve({ provider: 'a', model: 'b/m' }, null), /names route `b`/);
  assert.throws(
    () => inv.resolve({ provider: 'nope' }, null),
    (e: RouteResolutionError) => e.code === 'unknown_route',
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
