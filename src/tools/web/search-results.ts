// Parsing and filtering of search backend responses into one ranked hit list. Accepted inputs:
// our JSON contract `{results:[{title,url,snippet,score?}]}`, a SearXNG `format=json` answer
// (`content` instead of `snippet`), and DuckDuckGo's HTML results page.
import { isIP } from 'node:net';
import { fragmentText, tagAttr } from './html-text.ts';
import { forbiddenAddressReason } from './ip-policy.ts';
import { isLocalHostName } from './target-policy.ts';

export interface SearchHit {
  title: string;
  url: string;
  snippet: string;
  domain: string;
}

export interface ParsedSearch {
  engine: 'json_endpoint' | 'searxng';
  hits: SearchHit[];
}

export function parseJsonSearch(text: string): ParsedSearch | string {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return 'the search endpoint did not return JSON';
  }
  const results = (doc as { results?: unknown } | null)?.results;
  if (!Array.isArray(results)) return 'the search endpoint response has no `results` array';
  const top = doc as Record<string, unknown>;
  const items = results.filter((r): r is Record<string, unknown> => typeof r === 'object' && r !== null);
  const searxng =
    'number_of_results' in top || items.some((r) => 'engine' in r || 'engines' in r || 'content' in r);
  const ranked = items.every((r) => typeof r['score'] === 'number')
    ? [...items].sort((a, b) => (b['score'] as number) - (a['score'] as number))
    : items;
  const hits: SearchHit[] = [];
  for (const r of ranked) {
    const url = str(r['url']) ?? str(r['link']) ?? str(r['href']);
    if (!url) continue;
    const snippet = str(r['snippet']) ?? str(r['content']) ?? str(r['description']) ?? '';
    hits.push(hit(str(r['title']) ?? '', url, snippet));
  }
  return { engine: searxng ? 'searxng' : 'json_endpoint', hits };
}

/** DuckDuckGo's no-JS results page: `a.result__a` titles, `.result__snippet` snippets. */
export function parseDuckDuckGoHtml(html: string, base: string): SearchHit[] {
  const hits: SearchHit[] = [];
  let i = 0;
  for (;;) {
    const mark = html.indexOf('result__a', i);
    if (mark < 0) break;
    const lt = html.lastIndexOf('<', mark);
    const gt = html.indexOf('>', mark);
    if (lt < 0 || gt < 0) break;
    i = gt + 1;
    const tag = html.slice(lt + 1, gt);
    if (!/^a\s/i.test(tag) || !/\bresult__a\b/.test(tagAttr(tag, 'class') ?? '')) continue;
    const close = html.indexOf('</a', gt);
    const title = fragmentText(html.slice(gt + 1, close < 0 ? html.length : close));
    const next = html.indexOf('result__a', close < 0 ? i : close);
    const snippet = snippetBetween(html, close < 0 ? i : close, next < 0 ? html.length : next);
    const url = unwrapDuckDuckGo(tagAttr(tag, 'href') ?? '', base);
    if (url && title) hits.push(hit(title, url, snippet));
  }
  return hits;
}

function snippetBetween(html: string, from: number, to: number): string {
  const mark = html.indexOf('result__snippet', from);
  if (mark < 0 || mark > to) return '';
  const lt = html.lastIndexOf('<', mark);
  const gt = html.indexOf('>', mark);
  const name = /^([a-zA-Z][a-zA-Z0-9]*)/.exec(html.slice(lt + 1, gt))?.[1];
  if (!name || gt < 0) return '';
  const close = html.indexOf(`</${name}`, gt);
  return fragmentText(html.slice(gt + 1, close < 0 || close > to ? to : close));
}

function unwrapDuckDuckGo(href: string, base: string): string | undefined {
  try {
    const url = new URL(href, base);
    // Result links are redirects through duckduckgo.com/l/?uddg=<target>.
    if (/(^|\.)duckduckgo\.com$/.test(url.hostname) && url.pathname.startsWith('/l/')) {
      return url.searchParams.get('uddg') ?? undefined;
    }
    return url.href;
  } catch {
    return undefined;
  }
}

export interface HitFilter {
  allowed: string[];
  blocked: string[];
  limit: number;
}

/** Keeps public http(s) links, applies domain filters, drops duplicates, keeps rank order. */
export function filterHits(hits: SearchHit[], f: HitFilter): SearchHit[] {
  const seen = new Set<string>();
  const out: SearchHit[] = [];
  for (const h of hits) {
    if (out.length >= f.limit) break;
    if (!isPublicUrl(h.url) || seen.has(h.url)) continue;
    const domain = h.domain.toLowerCase();
    if (/(^|\.)duckduckgo\.com$/.test(domain)) continue; // ads and internal links
    if (f.allowed.length > 0 && !f.allowed.some((d) => matchesDomain(domain, d))) continue;
    if (f.blocked.some((d) => matchesDomain(domain, d))) continue;
    seen.add(h.url);
    out.push(h);
  }
  return out;
}

/** `https://Docs.Example.com/x` and `.example.com.` both become `docs.example.com` / `example.com`. */
export function normalizeDomain(value: string): string | undefined {
  let v = value.trim().toLowerCase();
  v = v.replace(/^[a-z][a-z0-9+.-]*:\/\//, '').split(/[/?#]/)[0]!;
  v = v.replace(/:\d+$/, '').replace(/^\.+|\.+$/g, '');
  return v === '' ? undefined : v;
}

function matchesDomain(domain: string, filter: string): boolean {
  return domain === filter || domain.endsWith(`.${filter}`);
}

function isPublicUrl(raw: string): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  if (url.username || url.password) return false;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) return forbiddenAddressReason(host) === null;
  return host !== '' && !isLocalHostName(host);
}

function hit(title: string, url: string, snippet: string): SearchHit {
  let domain = '';
  try {
    domain = new URL(url).hostname;
  } catch {
    // invalid URLs are dropped by filterHits
  }
  const clean = (s: string): string => s.replace(/\s+/g, ' ').trim();
  return { title: clean(title), url: url.trim(), snippet: clean(snippet), domain };
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v : undefined;
}
