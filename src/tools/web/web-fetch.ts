// The `web_fetch` built-in tool: one public http(s) resource as text. Every guard lives in
// safe-fetch / target-policy; this file only validates arguments and shapes the result.
import type { ToolContext, ToolDefinition, ToolResult } from '../registry.ts';
import { decodeBody, isHtml, mediaType } from './content.ts';
import { htmlToText } from './html-text.ts';
import type { SafeFetchOptions } from './safe-fetch.ts';
import { safeFetch } from './safe-fetch.ts';
import type { TargetPolicyOptions } from './target-policy.ts';
import { capped, WebPolicyError } from './target-policy.ts';

export interface WebFetchOptions extends TargetPolicyOptions {
  timeoutMs?: number;
  /** Bytes downloaded (after decompression); a larger declared Content-Length is refused. */
  maxBodyBytes?: number;
  /** Characters of text returned to the model after HTML conversion. */
  maxTextChars?: number;
  maxRedirects?: number;
  userAgent?: string;
}

export const WEB_FETCH_DEFAULTS = {
  timeoutMs: 15_000,
  maxBodyBytes: 2 * 1024 * 1024,
  maxTextChars: 200_000,
} as const;

const INPUT_SCHEMA = {
  type: 'object',
  properties: {
    url: { type: 'string', description: 'Absolute http:// or https:// URL of a public resource.' },
  },
  required: ['url'],
  additionalProperties: false,
} as const;

export function createWebFetchTool(opts: WebFetchOptions = {}): ToolDefinition {
  return {
    name: 'web_fetch',
    description:
      'Fetches one public http(s) URL and returns its text (HTML is converted to readable text) with the ' +
      'status, final URL after redirects, and headers. Private, local and binary targets are refused.',
    input_schema: INPUT_SCHEMA,
    side_effects: false,
    read_only: true,
    execute: (args, ctx) => executeFetch(args, ctx, opts),
  };
}

async function executeFetch(
  args: Record<string, unknown>,
  ctx: ToolContext,
  opts: WebFetchOptions,
): Promise<ToolResult> {
  const url = args['url'];
  if (typeof url !== 'string' || url.trim() === '') {
    return { content: 'web_fetch: `url` must be a non-empty string', is_error: true };
  }
  const limits = opts.limits?.() ?? {};
  const fetchOpts: SafeFetchOptions = {
    resolve: opts.resolve,
    allowPrivateTargetsForTests: opts.allowPrivateTargetsForTests,
    timeoutMs: capped(opts.timeoutMs ?? WEB_FETCH_DEFAULTS.timeoutMs, limits.max_timeout_ms),
    maxBodyBytes: capped(opts.maxBodyBytes ?? WEB_FETCH_DEFAULTS.maxBodyBytes, limits.max_output_bytes),
    maxRedirects: opts.maxRedirects,
    userAgent: opts.userAgent,
  };
  let res: Awaited<ReturnType<typeof safeFetch>>;
  try {
    res = await safeFetch(url.trim(), fetchOpts, ctx.signal);
  } catch (e) {
    if (ctx.signal.aborted) throw e;
    if (e instanceof WebPolicyError)
      return { content: `web_fetch: ${e.message} [${e.code}]`, is_error: true };
    throw e;
  }
  const html = isHtml(res.content_type, res.body);
  const decoded = decodeBody(res.body, res.content_type, html);
  let body = html ? htmlToText(decoded, res.final_url) : decoded;
  const maxChars = opts.maxTextChars ?? WEB_FETCH_DEFAULTS.maxTextChars;
  let truncated = res.truncated;
  if (body.length > maxChars) {
    body = `${body.slice(0, maxChars)}\n[... truncated: ${body.length - maxChars} more characters not shown]`;
    truncated = true;
  } else if (res.truncated) {
    body += `\n[... truncated: the body exceeded ${fetchOpts.maxBodyBytes} bytes]`;
  }
  const out = {
    url: res.url,
    final_url: res.final_url,
    redirects: res.redirects,
    status: res.status,
    content_type: mediaType(res.content_type) || null,
    body_format: html ? 'html_as_text' : 'text',
    headers: res.headers,
    body,
    bytes_read: res.body.length,
    truncated,
    remote_address: res.remote_address,
  };
  return { content: JSON.stringify(out), is_error: false };
}
