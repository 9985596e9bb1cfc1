import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createWebSearchTool } from '../../src/tools/web/web-search.ts';
import type { Fixture } from './fixtures.ts';
import { ctx, startFixture, text } from './fixtures.ts';

let backend: Fixture;
const queries: string[] = [];

const OWN = {
  results: [
    { title: 'Kheish docs', url: 'https://docs.example.com/kheish', snippet: 'Daemon docs', score: 0.5 },
    { title: 'Top hit', url: 'https://top.example.org/', snippet: 'Best match', score: 0.9 },
    { title: 'Local trap', url: 'http://127.0.0.1:8080/admin', snippet: 'must be dropped', score: 0.8 },
    { title: 'Meta trap', url: 'http://169.254.169.254/latest', snippet: 'must be dropped', score: 0.8 },
    { title: 'Name trap', url: 'http://localhost/x', snippet: 'must be dropped', score: 0.8 },
    { title: 'Scheme trap', url: 'file:///etc/passwd', snippet: 'must be dropped', score: 0.8 },
    { title: 'Dup', url: 'https://top.example.org/', snippet: 'duplicate', score: 0.1 },
    { title: 'Blog', url: 'https://blog.other.net/post', snippet: 'A post', score: 0.3 },
  ],
};

const SEARXNG = {
  query: 'kheish daemon',
  number_of_results: 2,
  results: [
    { title: 'SearX first', url: 'https://a.example.com/1', content: 'first content', engine: 'bing' },
    { title: 'SearX second', url: 'https://b.example.com/2', content: 'second content', engines: ['ddg'] },
  ],
};

const DDG = `<html><body><div class="results">
<div class="result results_links"><h2 class="result__title">
<a rel="nofollow" class="result__a" href="//duckduckgo.com/l/?uddg=https%3A%2F%2Fwww.example.com%2Fkheish&amp;rut=abc">Kheish <b>daemon</b></a></h2>
<a class="result__snippet" href="//duckduckgo.com/l/?uddg=x">A persistent <b>agent</b> runtime &amp; control plane</a></div>
<div class="result result--ad"><a class="result__a" href="https://duckduckgo.com/y.js?ad_domain=ads.example">Ad</a></div>
<div class="result"><a class="result__a" href="https://second.example.net/page">Second result</a>
<div class="result__snippet">Second snippet</div></div>
</body></html>`;

before(async () => {
  backend = await startFixture({
    '/own': (req, res) => {
      queries.push(new URL(req.url!, 'http://x').searchParams.get('q')!);
      text(JSON.stringify(OWN), 'application/json')(req, res);
    },
    '/searxng': text(JSON.stringify(SEARXNG), 'application/json'),
    '/html/': text(DDG, 'text/html; charset=utf-8'),
    '/broken': text('<html>not json</html>', 'text/html'),
    '/error': text('{"error":"down"}', 'application/json', 503),
  });
});

after(() => backend.close());

const search = (endpoint: string | undefined, extra: Parameters<typeof createWebSearchTool>[0] = {}) =>
  createWebSearchTool({
    endpoint: endpoint ? `${backend.base}${endpoint}` : undefined,
    duckduckgoUrl: `${backend.base}/html/`,
    allowPrivateTargetsForTests: [backend.socket],
    ...extra,
  });

async function run(tool: ReturnType<typeof search>, args: Record<string, unknown>) {
  const r = await tool.execute(args, ctx());
  assert.equal(r.is_error, false, r.content);
  return JSON.parse(r.content) as Record<string, any>;
}

test('web_search: JSON contract, ranked by score, private/local/non-http results and duplicates dropped', async () => {
  const out = await run(search('/own'), { query: 'kheish daemon' });
  assert.equal(out.engine, 'json_endpoint');
  assert.equal(out.implementation, 'endpoint');
  assert.deepEqual(
    out.results.map((r: any) => [r.rank, r.title, r.domain]),
    [
      [1, 'Top hit', 'top.example.org'],
      [2, 'Kheish docs', 'docs.example.com'],
      [3, 'Blog', 'blog.other.net'],
    ],
  );
  assert.equal(out.returned_results, 3);
  assert.equal(out.citations.length, 3);
  assert.match(out.sources_markdown, /^- \[Top hit\]\(https:\/\/top\.example\.org\/\)\n/);
  assert.match(out.citation_requirement, /Sources:/);
  for (const key of [
    'query',
    'provider',
    'model',
    'allowed_domains',
    'blocked_domains',
    'enable_image_understanding',
  ]) {
    assert.ok(key in out, key);
  }
});

test('web_search: domain filters and limit', async () => {
  const allowed = await run(search('/own'), { query: 'kheish', allowed_domains: ['https://Example.com/'] });
  assert.deepEqual(allowed.allowed_domains, ['example.com']);
  assert.deepEqual(
    allowed.results.map((r: any) => r.domain),
    ['docs.example.com'],
  );
  const blocked = await run(search('/own'), { query: 'kheish', blocked_domains: ['example.org'], limit: 1 });
  assert.deepEqual(
    blocked.results.map((r: any) => r.domain),
    ['docs.example.com'],
  );
});

test('web_search: SearXNG format=json answers are accepted', async () => {
  const out = await run(search('/searxng'), { query: 'kheish daemon' });
  assert.equal(out.engine, 'searxng');
  assert.deepEqual(
    out.results.map((r: any) => [r.title, r.snippet]),
    [
      ['SearX first', 'first content'],
      ['SearX second', 'second content'],
    ],
  );
  const sent = backend.seen.filter((s) => s.path.startsWith('/searxng')).at(-1)!.path;
  assert.match(sent, /[?&]q=kheish\+daemon/);
  assert.match(sent, /[?&]format=json/);
});

test('web_search: without an endpoint the DuckDuckGo HTML backend is parsed (ads dropped)', async () => {
  const out = await run(search(undefined), { query: 'kheish daemon' });
  assert.equal(out.engine, 'duckduckgo_html');
  assert.equal(out.implementation, 'local');
  assert.deepEqual(out.results, [
    {
      rank: 1,
      title: 'Kheish daemon',
      url: 'https://www.example.com/kheish',
      snippet: 'A persistent agent runtime & control plane',
      domain: 'www.example.com',
    },
    {
      rank: 2,
      title: 'Second result',
      url: 'https://second.example.net/page',
      snippet: 'Second snippet',
      domain: 'second.example.net',
    },
  ]);
});

test('api-core #93: web_search refuses a 1-character query and bad arguments', async () => {
  for (const args of [{ query: 'a' }, { query: '  b  ' }, {}, { query: 'ok query', limit: 'x' }]) {
    const r = await search('/own').execute(args, ctx());
    assert.equal(r.is_error, true, JSON.stringify(args));
    assert.match(r.content, /^web_search: /);
  }
  const r = await search('/own').execute({ query: 'ok', allowed_domains: 'example.com' }, ctx());
  assert.match(r.content, /allowed_domains` must be an array of strings/);
});

test('web_search: backend failures are clear errors', async () => {
  const broken = await search('/broken').execute({ query: 'kheish' }, ctx());
  assert.equal(broken.is_error, true);
  assert.match(broken.content, /did not return JSON/);
  const down = await search('/error').execute({ query: 'kheish' }, ctx());
  assert.match(down.content, /answered HTTP 503/);
});

test('web_search: a loopback endpoint is refused unless the explicit test option exempts it', async () => {
  const before = backend.seen.length;
  const tool = createWebSearchTool({ endpoint: `${backend.base}/own` });
  const r = await tool.execute({ query: 'kheish' }, ctx());
  assert.equal(r.is_error, true);
  assert.match(r.content, /forbidden_target/);
  assert.equal(backend.seen.length, before);
});

test('web_search: the query is sent as data, shell metacharacters included', async () => {
  const q = '$(rm -rf /); `id` | cat /etc/passwd && echo "x"';
  const out = await run(search('/own'), { query: q });
  assert.equal(out.query, q);
  assert.equal(queries.at(-1), q);
});
