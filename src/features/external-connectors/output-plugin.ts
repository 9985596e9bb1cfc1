// The `external` output plugin (api-collab §6.8 "Delivery"): POST {base_url}/deliver with the
// runtime protocol 1 body, `Idempotency-Key: kheish:<delivery_id>` and
// `X-Kheish-External-Protocol-Version: 1`. Only a 2xx answer saying `committed` delivers; 429
// honours Retry-After (seconds or an HTTP date, capped at one hour); anything else without a
// usable body is judged by its status class. Attachments go as descriptors whose download path
// serves the asset to the sidecar while this delivery is pending.

import { DaemonError } from '../../errors/daemon-error.ts';
import { retryAfterMs as readRetryAfter } from '../../errors/retry-after.ts';
import type { ConnectorsPort } from '../connectors/port.ts';
import type {
  DeliveryContext,
  DeliveryItem,
  DeliveryOutcome,
  OutputPlugin,
  ReplyHandle,
} from '../deliveries/port.ts';
import { type ManifestCache, SidecarError, sidecarRequest, targetOf } from './client.ts';
import type { DeliveryAssets } from './delivery-assets.ts';
import { externalAddress } from './ingress.ts';
import { DeliverAnswer, RUNTIME_PROTOCOL_VERSION } from './protocol.ts';
import { parseSettings } from './settings.ts';

export const MAX_RETRY_AFTER_MS = 3_600_000;

/** KHEISH_EXTERNAL_CONNECTOR_DELIVER_TIMEOUT_MS, default 30 s (decision 318). */
export function deliverTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.KHEISH_EXTERNAL_CONNECTOR_DELIVER_TIMEOUT_MS);
  return Number.isFinite(v) && v >= 100 && v <= 600_000 ? Math.floor(v) : 30_000;
}

export interface ExternalRoute {
  connector: string;
  route: string;
}

const badAddress = (detail: string) => new DaemonError(400, 'deliveries', 'invalid_reply_target', detail);

export function parseAddress(address: string): ExternalRoute {
  let v: unknown;
  try {
    v = JSON.parse(address);
  } catch {
    throw badAddress('an external reply address is JSON {"connector": "<name>", "route": "<reply_route>"}');
  }
  const o = v as Record<string, unknown>;
  if (!o || typeof o !== 'object' || typeof o.connector !== 'string' || o.connector === '')
    throw badAddress('an external reply address names its connector');
  if (o.route !== undefined && typeof o.route !== 'string')
    throw badAddress('an external reply route is a string');
  return { connector: o.connector, route: (o.route as string | undefined) ?? '' };
}

/** Seconds or an HTTP date; capped at one hour; null when absent or unreadable. */
export function retryAfterMs(value: string | undefined, nowMs = Date.now()): number | null {
  const ms = readRetryAfter(value, nowMs);
  return ms === null ? null : Math.min(ms, MAX_RETRY_AFTER_MS);
}

/** How an HTTP answer of the sidecar maps to an outcome (#65: `committed` counts only with 2xx). */
export function judgeAnswer(
  status: number,
  body: Buffer,
  truncated: boolean,
  retryAfter?: string,
): DeliveryOutcome {
  let answer: DeliverAnswer | null = null;
  if (!truncated) {
    try {
      const parsed = DeliverAnswer.safeParse(JSON.parse(body.toString('utf8')));
      if (parsed.success) answer = parsed.data;
    } catch {
      answer = null;
    }
  }
  const code = (suffix: string) => `sidecar_${suffix}`;
  if (status === 429) {
    const after = retryAfterMs(retryAfter);
    return {
      status: 'retry',
      error_code: code('rate_limited'),
      ...(after !== null ? { retry_after_ms: after } : {}),
    };
  }
  if (status >= 200 && status < 300) {
    if (answer?.status === 'committed') return { status: 'delivered', detail: { http_status: status } };
    if (answer?.status === 'terminal' || answer?.status === 'failed')
      return { status: 'terminal', error_code: code('terminal') };
    // A 2xx that does not say committed is not a delivery: retried (decision 317).
    return { status: 'retry', error_code: answer ? code('retryable') : code('invalid_response') };
  }
  // Non-2xx: an explicit retryable/terminal status is honoured; `committed` is not (wrong class).
  if (answer?.status === 'terminal' || answer?.status === 'failed')
    return { status: 'terminal', error_code: code(`http_${status}`) };
  if (answer?.status === 'retryable' || answer?.status === 'retry')
    return { status: 'retry', error_code: code(`http_${status}`) };
  if (status === 408 || status >= 500) return { status: 'retry', error_code: code(`http_${status}`) };
  return { status: 'terminal', error_code: code(`http_${status}`) };
}

export function externalOutputPlugin(deps: {
  connectors: () => ConnectorsPort;
  assets: DeliveryAssets;
  manifests: ManifestCache;
  timeoutMs: () => number;
}): OutputPlugin {
  const record = async (name: string) => {
    const r = await deps.connectors().get('external', name);
    return r ? { record: r, settings: parseSettings(r.settings) } : null;
  };
  return {
    plugin: 'external',
    // The protocol obliges sidecars to deduplicate by delivery_id / Idempotency-Key (§6.8).
    receiverDeduplicates: true,
    async validateAddress(address) {
      const a = parseAddress(address);
      if (!(await deps.connectors().get('external', a.connector)))
        throw badAddress(`external connector ${a.connector.slice(0, 128)} does not exist`);
    },
    fromStructured(request): ReplyHandle | null {
      if (request.type !== 'external') return null;
      if (typeof request.connector !== 'string' || request.connector === '')
        throw badAddress('an external reply target names its connector');
      const route = request.route ?? request.reply_route ?? '';
      if (typeof route !== 'string') throw badAddress('an external reply route is a string');
      return { plugin: 'external', address: externalAddress(request.connector, route) };
    },
    async deliver(item: DeliveryItem, ctx: DeliveryContext): Promise<DeliveryOutcome> {
      const a = parseAddress(item.target.address);
      const found = await record(a.connector);
      if (!found) return { status: 'terminal', error_code: 'connector_not_found' };
      const token = await deps.connectors().secret('external', a.connector, 'shared_token');
      const pathOf = (assetId: string) =>
        `/v1/connectors/external/${encodeURIComponent(a.connector)}/deliveries/${encodeURIComponent(item.delivery_id)}/assets/${encodeURIComponent(assetId)}/raw`;
      const artifacts = item.artifacts.map((art) => ({
        asset_id: art.id,
        media_type: art.media_type,
        file_name: art.file_name,
        download_path: pathOf(art.id),
      }));
      // Attachment parts (files inside the answer) get a download path too.
      const inParts: string[] = [];
      const parts = item.parts.map((p) => {
        const att = (p as { type?: string; attachment?: { id?: unknown } }).attachment;
        if ((p as { type?: string }).type !== 'attachment' || typeof att?.id !== 'string') return p;
        inParts.push(att.id);
        return { ...(p as object), attachment: { ...att, download_path: pathOf(att.id) } };
      });
      // Servable before the sidecar hears of them; no longer once this delivery is settled.
      await deps.assets.open(a.connector, item.delivery_id, [...item.artifacts.map((x) => x.id), ...inParts]);
      const body = {
        protocol_version: RUNTIME_PROTOCOL_VERSION,
        delivery_id: item.delivery_id,
        attempt: item.attempt,
        reply_route: a.route,
        conversation: { connector: a.connector, session_id: item.session_id, run_id: item.run_id },
        content: item.content,
        parts,
        artifacts,
        metadata: item.metadata,
      };
      let outcome: DeliveryOutcome;
      try {
        // The runtime contract (protocol 1, an instance id) is checked before sending, from a
        // manifest cached briefly and then fetched again.
        await deps.manifests.get(a.connector, targetOf(found.settings), ctx.signal);
        const res = await sidecarRequest(
          targetOf(found.settings),
          '/deliver',
          {
            method: 'POST',
            body: Buffer.from(JSON.stringify(body)),
            headers: {
              'content-type': 'application/json',
              'idempotency-key': `kheish:${item.delivery_id}`,
              'x-kheish-external-protocol-version': String(RUNTIME_PROTOCOL_VERSION),
              ...(token ? { authorization: `Bearer ${token}` } : {}),
            },
            timeoutMs: deps.timeoutMs(),
          },
          ctx.signal,
        );
        outcome = judgeAnswer(res.status, res.body, res.truncated, res.headers['retry-after']);
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        const code = err instanceof SidecarError ? err.code : 'network_error';
        // Refused targets (private address, redirect) will not change by waiting.
        const terminal = [
          'forbidden_target',
          'redirect_refused',
          'url_credentials',
          'unsupported_scheme',
          'invalid_url',
        ];
        outcome = terminal.includes(code)
          ? { status: 'terminal', error_code: `sidecar_${code}` }
          : { status: 'retry', error_code: `sidecar_${code}` };
      }
      if (outcome.status !== 'retry')
        await deps.assets.settle(a.connector, item.delivery_id).catch(() => undefined);
      return outcome;
    },
  };
}
