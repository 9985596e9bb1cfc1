// The daemon's HTTP client towards sidecars (api-collab §6.7): the web tools' guarded client with
// bounded timeouts, no proxy from the environment, no redirects, every resolved address vetted and
// pinned for the request, and response bodies capped at 64 KiB. Manifests are cached briefly and
// then fetched again, so a sidecar at a stable URL cannot keep an old contract for ever.
import { withTraceparent } from '../../telemetry/tracing.ts';
import { type SafeFetchResult, safeFetch } from '../../tools/web/safe-fetch.ts';
import { WebPolicyError } from '../../tools/web/target-policy.ts';
import { SidecarHealth, SidecarManifest } from './protocol.ts';
import type { ExternalSettings } from './settings.ts';

export const MAX_RESPONSE_BYTES = 64 * 1024;
export const MANIFEST_TTL_MS = 30_000;
const CHECK_TIMEOUT_MS = 5_000;

/** A sidecar request that did not produce an HTTP answer; `code` is safe to show (no URL). */
export class SidecarError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'SidecarError';
    this.code = code;
  }
}

export interface SidecarTarget {
  base_url: string;
  mode: ExternalSettings['mode'];
  allow_private_network: boolean;
}

export function targetOf(s: ExternalSettings): SidecarTarget {
  return { base_url: s.base_url, mode: s.mode, allow_private_network: s.allow_private_network };
}

function urlOf(t: SidecarTarget, path: string): string {
  return `${t.base_url.replace(/\/+$/, '')}${path}`;
}

/** One request; WebPolicyError and network failures become SidecarError (the URL is never shown). */
export async function sidecarRequest(
  t: SidecarTarget,
  path: string,
  o: { method: 'GET' | 'POST'; body?: Buffer; headers?: Record<string, string>; timeoutMs: number },
  signal: AbortSignal,
): Promise<SafeFetchResult> {
  try {
    return await safeFetch(
      urlOf(t, path),
      {
        method: o.method,
        body: o.body,
        // The sidecar joins the trace of the delivery (or run) that called it, when tracing is on.
        headers: withTraceparent(o.headers),
        accept: 'application/json',
        redirects: 'refuse',
        timeoutMs: o.timeoutMs,
        maxBodyBytes: MAX_RESPONSE_BYTES,
        // A child process listens on loopback by rule; a remote one only with the operator's opt-in.
        allowPrivateNetwork: t.mode === 'child_process' || t.allow_private_network,
        userAgent: 'kheish-daemon/0.1 (external connectors)',
      },
      signal,
    );
  } catch (e) {
    if (signal.aborted) throw e;
    if (e instanceof WebPolicyError)
      throw new SidecarError(e.code, `${path}: ${e.code.replaceAll('_', ' ')}`);
    throw new SidecarError('network_error', `${path}: request failed`);
  }
}

function parseJson(res: SafeFetchResult, path: string): unknown {
  if (res.truncated) throw new SidecarError('response_too_large', `${path}: response larger than 64 KiB`);
  try {
    return JSON.parse(res.body.toString('utf8'));
  } catch {
    throw new SidecarError('invalid_response', `${path}: response is not JSON`);
  }
}

async function getChecked<T>(
  t: SidecarTarget,
  path: '/manifest' | '/health',
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } },
  signal: AbortSignal,
): Promise<T> {
  const res = await sidecarRequest(t, path, { method: 'GET', timeoutMs: CHECK_TIMEOUT_MS }, signal);
  if (res.status < 200 || res.status >= 300)
    throw new SidecarError('bad_status', `${path}: answered HTTP ${res.status}`);
  const parsed = schema.safeParse(parseJson(res, path));
  if (!parsed.success)
    throw new SidecarError(
      'invalid_response',
      `${path}: must be JSON with protocol_version 1 and an instance_id`,
    );
  return parsed.data;
}

export const fetchManifest = (t: SidecarTarget, signal: AbortSignal) =>
  getChecked(t, '/manifest', SidecarManifest, signal);
export const fetchHealth = (t: SidecarTarget, signal: AbortSignal) =>
  getChecked(t, '/health', SidecarHealth, signal);

interface CachedManifest {
  base_url: string;
  manifest: SidecarManifest;
  fetched_at_ms: number;
}

/** Manifests per connector, kept MANIFEST_TTL_MS and then fetched again. */
export class ManifestCache {
  private readonly entries = new Map<string, CachedManifest>();
  private readonly ttlMs: number;
  constructor(ttlMs = MANIFEST_TTL_MS) {
    this.ttlMs = ttlMs;
  }

  async get(name: string, t: SidecarTarget, signal: AbortSignal): Promise<SidecarManifest> {
    const hit = this.entries.get(name);
    if (hit && hit.base_url === t.base_url && Date.now() - hit.fetched_at_ms < this.ttlMs)
      return hit.manifest;
    const manifest = await fetchManifest(t, signal);
    this.entries.set(name, { base_url: t.base_url, manifest, fetched_at_ms: Date.now() });
    return manifest;
  }

  /** A fresh manifest the caller already fetched (a child's readiness check). */
  put(name: string, base_url: string, manifest: SidecarManifest): void {
    this.entries.set(name, { base_url, manifest, fetched_at_ms: Date.now() });
  }

  forget(name: string): void {
    this.entries.delete(name);
  }
}
