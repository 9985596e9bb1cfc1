// The `web_search` built-in tool. Backend: a configured JSON endpoint (our contract or SearXNG)
// or, without one, DuckDuckGo's HTML page, as the reference daemon does. Both are fetched through
// safe-fetch, so a search backend is held to the same address policy as web_fetch.
import type { ToolContext, ToolDefinition, ToolResult } from '../registry.ts';
import { decodeBody } from './content.ts';
import { safeFetch } from './safe-fetch.ts';
import type { SearchHit } from './search-results.ts';
import { filterHits, normalizeDomain, parseDuckDuckGoHtml, parseJsonSearch } from './search-results.ts';
import type { TargetPolicyOptions } from './target-policy.ts';
import { capped, WebPolicyError } from './target-policy.ts';

export interface WebSearchOptions extends TargetPolicyOptions {
  /** JSON search endpoint, queried as `GET <endpoint>?q=<query>&format=json&limit=<n>`. */
  endpoint?: string;
  /** DuckDuckGo HTML endpoint used when no `endpoint` is configured. */
  duckduckgoUrl?: string;
  timeoutMs?: number;
  /** Upper bound for the `limit` argument. */
  maxResults?: number;
  maxBodyBytes?: number;
  userAgent?: string;
}

export const WEB_SEARCH_DEFAULTS = {
  duckduckgoUrl: 'https://html.duckduckgo.com/html/',
  timeoutMs: 60_000,
  limit: 8,
  maxResults: 20,
  maxBodyBytes: 2 * 1024 * 1024,
} as const;

const MAX_QUERY_CHARS = 500;
const CITATION_REQUIREMENT =
  'When you use these results, end your answer with a `Sources:` section listing the sources you relied ' +
  'on as markdown links, one per line, formatted `- [Title](URL)`. Never give bare URLs.';

const INPUT_SCHEMA = {
  type: 'object',
  properties: {
    query: { type: 'string', minLength: 2, description: 'What to search for (at least 2 characters).' },
    allowed_domains: { type: 'array', items: { type: 'string' }, description: 'Keep only these domains.' },
    blocked_domains: { type: 'array', items: { type: 'string' }, description: 'Drop these domains.' },
    limit: {
      type: 'integer',
      minimum: 1,
      description: `Maximum results (default ${WEB_SEARCH_DEFAULTS.limit}).`,
    },
    enable_image_understanding: {
      type: 'boolean',
      description: 'Lets a provider-native backend analyse images; ignored by local backends.',
    },
  },
  required: ['query'],
  additionalProperties: false,
} as const;

export function createWebSearchTool(opts: WebSearchOptions = {}): ToolDefinition {
  return {
    name: 'web_search',
    description:
      'Searches the public web and returns ranked results (title, url, snippet, domain). Use it before ' +
      'web_fetch to find current sources, and cite the URLs you rely on.',
    input_schema: INPUT_SCHEMA,
    side_effects: false,
    read_only: true,
    execute: (args, ctx) => executeSearch(args, ctx, opts),
  };
}

interface SearchRequest {
  query: string;
  allowed: string[];
  blocked: string[];
  limit: number;
  images: boolean;
}

function parseArgs(args: Record<string, unknown>, opts: WebSearchOptions): SearchRequest | string {
  const raw = args['query'];
  if (typeof raw !== 'string') return '`query` must be a string';
  const query = raw.trim();
  if (query.length < 2) return '`query` must be at least 2 characters long';
  if (query.length > MAX_QUERY_CHARS) return `\`query\` must be at most ${MAX_QUERY_CHARS} characters long`;
  const domains = (key: string): string[] | string => {
    const v = args[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((d) => typeof d !== 'string'))
      return `\`${key}\` must be an array of strings`;
    return v.map((d: string) => normalizeDomain(d)).filter((d): d is string => d !== undefined);
  };
  const allowed = domains('allowed_domains');
  if (typeof allowed === 'string') return allowed;
  const blocked = domains('blocked_domains');
  if (typeof blocked === 'string') return blocked;
  const max = opts.maxResults ?? WEB_SEARCH_DEFAULTS.maxResults;
  const rawLimit = args['limit'] ?? WEB_SEARCH_DEFAULTS.limit;
  if (typeof rawLimit !== 'number' || !Number.isFinite(rawLimit)) return '`limit` must be a number';
  const limit = Math.max(1, Math.min(Math.floor(rawLimit), max));
  return { query, allowed, blocked, limit, images: args['enable_image_understanding'] === true };
}

async function executeSearch(
  args: Record<string, unknown>,
  ctx: ToolContext,
  opts: WebSearchOptions,
): Promise<ToolResult> {
  const req = parseArgs(args, opts);
  if (typeof req === 'string') return { content: `web_search: ${req}`, is_error: true };
  let engine: string;
  let implementation: string;
  let hits: SearchHit[];
  try {
    if (opts.endpoint) {
      const parsed = await queryEndpoint(opts.endpoint, req, opts, ctx.signal);
      if (typeof parsed === 'string') return { content: `web_search: ${parsed}`, is_error: true };
      ({ engine, hits } = parsed);
      implementation = 'endpoint';
    } else {
      hits = await queryDuckDuckGo(req, opts, ctx.signal);
      engine = 'duckduckgo_html';
      implementation = 'local';
    }
  } catch (e) {
    if (ctx.signal.aborted) throw e;
    if (e instanceof WebPolicyError)
      return { content: `web_search: ${e.message} [${e.code}]`, is_error: true };
    throw e;
  }
  const results = filterHits(hits, { allowed: req.allowed, blocked: req.blocked, limit: req.limit });
  const out = {
    query: req.query,
    engine,
    implementation,
    provider: null,
    model: null,
    results: results.map((h, i) => ({ rank: i + 1, ...h })),
    returned_results: results.length,
    citations: results.map((h) => ({ title: h.title, url: h.url, domain: h.domain, snippet: h.snippet })),
    allowed_domains: req.allowed,
    blocked_domains: req.blocked,
    enable_image_understanding: req.images,
    sources_markdown: results
      .map((h) => `- [${escapeText(h.title || h.url)}](${escapeUrl(h.url)})`)
      .join('\n'),
    citation_requirement: CITATION_REQUIREMENT,
  };
  return { content: JSON.stringify(out), is_error: false };
}

async function queryEndpoint(
  endpoint: string,
  req: SearchRequest,
  opts: WebSearchOptions,
  signal: AbortSignal,
): Promise<{ engine: string; hits: SearchHit[] } | string> {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return `the configured search endpoint is not a valid URL`;
  }
  // searchParams encodes the query: it travels as data, never through a shell or a template.
  url.searchParams.set('q', req.query);
  url.searchParams.set('format', 'json');
  url.searchParams.set('limit', String(req.limit));
  const res = await safeFetch(url.href, fetchOptions(opts, 'application/json'), signal);
  if (res.status < 200 || res.status > 299) return `the search endpoint answered HTTP ${res.status}`;
  return parseJsonSearch(decodeBody(res.body, res.content_type, false));
}

async function queryDuckDuckGo(
  req: SearchRequest,
  opts: WebSearchOptions,
  signal: AbortSignal,
): Promise<SearchHit[]> {
  const url = new URL(opts.duckduckgoUrl ?? WEB_SEARCH_DEFAULTS.duckduckgoUrl);
  url.searchParams.set('q', req.query);
  const res = await safeFetch(url.href, fetchOptions(opts, 'text/html'), signal);
  if (res.status < 200 || res.status > 299) {
    throw new WebPolicyError('search_failed', `DuckDuckGo answered HTTP ${res.status}`);
  }
  return parseDuckDuckGoHtml(decodeBody(res.body, res.content_type, true), res.final_url);
}

function fetchOptions(opts: WebSearchOptions, accept: string) {
  const limits = opts.limits?.() ?? {};
  return {
    resolve: opts.resolve,
    allowPrivateTargetsForTests: opts.allowPrivateTargetsForTests,
    timeoutMs: capped(opts.timeoutMs ?? WEB_SEARCH_DEFAULTS.timeoutMs, limits.max_timeout_ms),
    maxBodyBytes: capped(opts.maxBodyBytes ?? WEB_SEARCH_DEFAULTS.maxBodyBytes, limits.max_output_bytes),
    userAgent: opts.userAgent,
    accept,
  };
}

function escapeText(s: string): string {
  return s.replace(/[\\[\]()]/g, (c) => `\\${c}`).replace(/[\r\n]+/g, ' ');
}

function escapeUrl(s: string): string {
  return s.replace(/\(/g, '%28').replace(/\)/g, '%29').replace(/\s/g, '%20');
}
