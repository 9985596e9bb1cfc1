// fast-check arbitraries for API fuzzing: a request = one documented route (from
// /v1/openapi.json, plus the undocumented probes and unknown paths), with random or mutated path
// ids, query parameters, headers and bodies. Valid samples are mutated so requests get past the
// first validation layer as often as they are rejected by it.
import fc from 'fast-check';

export interface Route {
  method: string;
  path: string;
}

export interface FuzzRequest {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  /** A raw body string, or undefined for none. */
  body: string | undefined;
}

export interface KnownIds {
  sessions: string[];
  runs: string[];
  cursors: string[];
}

/** Documented routes plus the health probes and a few that do not exist. */
export function routesOf(openapi: any): Route[] {
  const routes: Route[] = [];
  for (const [path, ops] of Object.entries(openapi.paths as Record<string, object>))
    for (const method of Object.keys(ops)) routes.push({ method: method.toUpperCase(), path });
  routes.push(
    { method: 'GET', path: '/healthz' },
    { method: 'GET', path: '/readyz' },
    { method: 'GET', path: '/v1/openapi.json' },
    { method: 'GET', path: '/v1/nope/{session_id}' },
    { method: 'DELETE', path: '/v1/sessions/{session_id}' },
    { method: 'PATCH', path: '/v1/runs/{run_id}' },
  );
  return routes;
}

const nasty = fc.constantFrom(
  '',
  ' ',
  '.',
  '..',
  '%2e%2e',
  '%00',
  'a%2Fb',
  '%',
  '%zz',
  '\u00e9t\u00e9',
  '\u{1f600}',
  'x'.repeat(300),
  'x'.repeat(5000),
  'null',
  '0',
  '-1',
  '18446744073709551616',
  'run-',
  'session:with:colons',
  "'; drop table runs; --",
);

const mutate = (s: string) =>
  fc.oneof(
    fc.constant(s),
    fc.constant(s.slice(0, -1)),
    fc.constant(`${s}x`),
    fc.constant(s.toUpperCase()),
    fc.constant(encodeURIComponent(`${s}/`)),
  );

function idArb(known: string[]): fc.Arbitrary<string> {
  const base: fc.Arbitrary<string>[] = [nasty, fc.string({ maxLength: 40 }).map(encodeURIComponent)];
  if (known.length) base.push(fc.constantFrom(...known), fc.constantFrom(...known).chain(mutate));
  return fc.oneof(...base);
}

const cursorArb = (known: string[]) =>
  fc.oneof(
    fc.constantFrom(
      '0',
      '1',
      '-1',
      '1.5',
      '1e3',
      '',
      ' 7',
      '99999999999999999999',
      '18446744073709551615',
      'abc',
    ),
    fc.bigInt({ min: 0n, max: 1n << 64n }).map(String),
    fc.string({ maxLength: 30 }),
    ...(known.length ? [fc.constantFrom(...known)] : []),
  );

function queryArb(known: KnownIds): fc.Arbitrary<string> {
  const value = fc.oneof(
    cursorArb(known.cursors),
    fc.constantFrom('true', 'false', '1', '0', 'asc', 'desc', 'sideways', '100', '101', '-5'),
    idArb(known.sessions),
  );
  const key = fc.constantFrom(
    'cursor',
    'limit',
    'page',
    'order',
    'session_id',
    'priority_active',
    'junk',
    'cursor',
  );
  return fc
    .array(fc.tuple(key, value), { maxLength: 4 })
    .map((pairs) =>
      pairs.length ? `?${pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}` : '',
    );
}

const printable = fc.string({ maxLength: 60 }).map((s) => s.replace(/[^\x20-\x7e]/g, '_'));

function headersArb(known: KnownIds): fc.Arbitrary<Record<string, string>> {
  return fc.record(
    {
      'content-type': fc.constantFrom(
        'application/json',
        'application/json; charset=utf-8',
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/octet-stream',
        'application/json; charset=utf-16',
        '',
      ),
      'last-event-id': cursorArb(known.cursors).map((s) => s.replace(/[^\x20-\x7e]/g, '_')),
      'idempotency-key': fc.oneof(printable, fc.constant('k'.repeat(2000))),
      authorization: fc.oneof(printable, fc.constant('Bearer '), fc.constant('Bearer x')),
      accept: fc.constantFrom('*/*', 'text/event-stream', 'application/json', 'text/html', ''),
      // A foreign origin is refused before routing (403): rarely, so most requests get further.
      origin: fc.oneof(
        { weight: 8, arbitrary: fc.constant('http://127.0.0.1') },
        { weight: 1, arbitrary: fc.constantFrom('http://evil.example', 'null') },
      ),
    },
    { requiredKeys: [] },
  );
}

/** A plausible body for a route, to be mutated. */
function sampleBody(path: string): Record<string, unknown> {
  if (path.endsWith('/runs') || path.endsWith('/input'))
    return { content: 'kind:text #fuzz', generation: { temperature: 0.5 }, budget: { max_turns: 3 } };
  if (path.endsWith('/route-policy')) return { route_policy: { provider: 'local' } };
  if (path.endsWith('/budget')) return { budget: { max_turns: 5, max_wall_time_ms: 60_000 } };
  if (path.endsWith('/output-contract'))
    return { output_contract: { schema: { type: 'object' }, max_repair_attempts: 1 } };
  if (path.endsWith('/capability-scope')) return { capability_scope: { skill_allow: ['a'] } };
  if (path.endsWith('/credential-scope')) return { credential_scope: { route_allow: ['local'] } };
  if (path.endsWith('/end')) return { reason: 'fuzz' };
  if (path.endsWith('/persona')) return { persona_id: 'fuzz-persona' };
  if (path === '/v1/personas')
    return {
      persona_id: 'fuzz-persona',
      display_name: 'Fuzz',
      soul: 's',
      capability_scope: { skill_deny: ['a'] },
    };
  if (path.startsWith('/v1/personas/')) return { soul: 's2', metadata: { k: 'v' } };
  if (path === '/v1/sessions') return { thread_id: 't' };
  return {};
}

const anyValue = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(-1, 0, 1e308, Number.MAX_SAFE_INTEGER + 2, 2 ** 31),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
);

function bodyArb(route: Route): fc.Arbitrary<string | undefined> {
  const sample = sampleBody(route.path);
  const keys = Object.keys(sample);
  const mutated = fc
    .record({
      drop: fc.option(fc.constantFrom(...(keys.length ? keys : ['x'])), { nil: undefined }),
      set: fc.option(
        fc.tuple(fc.constantFrom(...keys, 'content', 'session_id', 'unknown_field', 'budget'), anyValue),
        {
          nil: undefined,
        },
      ),
    })
    .map(({ drop, set }) => {
      const b: Record<string, unknown> = { ...sample };
      if (drop) delete b[drop];
      if (set) b[set[0]] = set[1];
      return JSON.stringify(b);
    });
  return fc.oneof(
    { weight: 4, arbitrary: mutated },
    { weight: 1, arbitrary: fc.constant(JSON.stringify(sample)) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '',
        '{',
        '{"content":',
        'null',
        '[]',
        '"str"',
        '{"a":1}{"b":2}',
        '\u0000',
        '[['.repeat(5000),
      ),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  );
}

export function requestArb(routes: Route[], known: KnownIds): fc.Arbitrary<FuzzRequest> {
  return fc.constantFrom(...routes).chain((route) =>
    fc
      .record({
        sessionId: idArb(known.sessions),
        runId: idArb(known.runs),
        query: queryArb(known),
        headers: headersArb(known),
        body: route.method === 'GET' ? fc.constant(undefined) : bodyArb(route),
        method: fc.oneof(
          { weight: 12, arbitrary: fc.constant(route.method) },
          fc.constantFrom('PUT', 'HEAD', 'OPTIONS'),
        ),
      })
      .map(({ sessionId, runId, query, headers, body, method }) => ({
        method,
        path: route.path.replace('{session_id}', sessionId).replace('{run_id}', runId),
        query,
        headers,
        body: method === 'GET' || method === 'HEAD' ? undefined : body,
      })),
  );
}
