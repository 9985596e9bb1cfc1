// External connectors (api-collab §6.7–§6.8): the `external` kind's rules, the sidecar children
// this replica runs, the ingress of events and batches, the credential broker endpoint and the
// download of delivery assets. The shared pipeline (receipts, rate limits, sessions, runs) is the
// connectors feature's; the delivery queue is the deliveries feature's.
import { timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { DaemonError } from '../../errors/daemon-error.ts';
import type { SecretStore } from '../../secrets/secret-store.ts';
import type { Store } from '../../store/store.ts';
import type { AssetsPort } from '../assets/port.ts';
import type {
  ConnectorKindAdapter,
  ConnectorRecord,
  ConnectorsPort,
  IngressResult,
} from '../connectors/port.ts';
import type { ConnectorGrants } from '../credentials/connector-grants.ts';
import { listChildren, readChild } from './children-store.ts';
import { ManifestCache } from './client.ts';
import type { DeliveryAssets } from './delivery-assets.ts';
import { checkInput, toIngressEvent } from './ingress.ts';
import { type BatchItemResult, ExternalEventBody, INGRESS_VERSIONS } from './protocol.ts';
import {
  type ExternalSettings,
  parseSettings,
  SECRET_FIELDS,
  validateExternal,
  viewSettings,
} from './settings.ts';
import { ChildSupervisor } from './supervisor.ts';

export interface ExternalDeps {
  store: Store;
  log: Logger;
  secretStore: SecretStore;
  replicaId: string;
  connectors: () => ConnectorsPort;
  assets: () => AssetsPort;
  grants: () => ConnectorGrants;
  deliveryAssets: DeliveryAssets;
}

const notFound = (name: string) =>
  new DaemonError(
    404,
    'connectors',
    'connector_not_found',
    `connector external/${name.slice(0, 128)} does not exist`,
  );
const unauthorized = (detail: string) =>
  new DaemonError(401, 'connectors', 'connector_unauthorized', detail, { 'www-authenticate': 'Bearer' });

function bearerOf(header: string | undefined): string | null {
  const m = /^bearer\s+(.+)$/i.exec((header ?? '').trim());
  return m ? m[1]!.trim() : null;
}

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export type EventOutcome =
  | { status: 'accepted' | 'duplicate'; session_id: string; run_id: string }
  | { status: 'rate_limited'; retry_after_ms: number };

export class ExternalConnectorsService {
  private readonly d: ExternalDeps;
  readonly manifests = new ManifestCache();
  private readonly supervisors = new Map<string, ChildSupervisor>();
  private daemonUrlResolve!: (url: string) => void;
  private readonly daemonUrlP = new Promise<string>((r) => {
    this.daemonUrlResolve = r;
  });
  private reconcileTimer: NodeJS.Timeout | null = null;
  private stopping = false;

  constructor(deps: ExternalDeps) {
    this.d = deps;
  }

  setDaemonUrl(url: string): void {
    this.daemonUrlResolve(url);
  }

  // ---- the kind adapter

  adapter(): ConnectorKindAdapter {
    return {
      kind: 'external',
      secretFields: SECRET_FIELDS,
      validate: async (settings, configured) => {
        await validateExternal(settings, configured, this.d.secretStore);
      },
      viewSettings: viewSettings,
      onChange: (name, record) => {
        // A changed connector may point at another sidecar: its manifest is fetched again.
        this.manifests.forget(name);
        return this.apply(name, record);
      },
    };
  }

  /** Starts, replaces or stops the child of `name` to match its record. */
  private async apply(name: string, record: ConnectorRecord | null): Promise<void> {
    const settings = record ? parseSettings(record.settings) : null;
    const current = this.supervisors.get(name);
    if (settings?.mode !== 'child_process' || this.stopping) {
      if (current) {
        this.supervisors.delete(name);
        await current.stop(!record);
      }
      if (!record)
        await this.d
          .grants()
          .revokeAll(name, 'connector_deleted')
          .catch(() => undefined);
      return;
    }
    if (current) {
      if (JSON.stringify(settings) !== JSON.stringify(current.settingsSnapshot))
        await current.reconfigure(settings);
      return;
    }
    const sup = new ChildSupervisor(name, settings, {
      store: this.d.store,
      log: this.d.log,
      replicaId: this.d.replicaId,
      grants: this.d.grants(),
      manifests: this.manifests,
      daemonUrl: () => this.daemonUrlP,
      sharedToken: () => this.d.connectors().secret('external', name, 'shared_token'),
    });
    this.supervisors.set(name, sup);
    sup.start();
  }

  /** Every external connector's child as the registry says now (also what other replicas changed). */
  async reconcile(): Promise<void> {
    const port = this.d.connectors() as ConnectorsPort & {
      list?: () => Promise<Array<Record<string, unknown>>>;
    };
    if (!port.list) return;
    const names = (await port.list()).filter((v) => v.kind === 'external').map((v) => String(v.name));
    for (const name of new Set([...names, ...this.supervisors.keys()])) {
      const record = await port.get('external', name);
      await this.apply(name, record).catch((err) =>
        this.d.log.warn({ connector: name, err: String(err) }, 'external connector reconcile failed'),
      );
    }
  }

  async start(): Promise<void> {
    await this.reconcile();
    this.reconcileTimer = setInterval(() => void this.reconcile().catch(() => undefined), 5_000);
    this.reconcileTimer.unref();
  }

  async shutdown(): Promise<void> {
    this.stopping = true;
    if (this.reconcileTimer) clearInterval(this.reconcileTimer);
    const all = [...this.supervisors.values()];
    this.supervisors.clear();
    await Promise.all(all.map((s) => s.stop()));
  }

  // ---- ingress

  private async connector(name: string): Promise<{ settings: ExternalSettings; token: string | null }> {
    const record = await this.d.connectors().get('external', name);
    if (!record) throw notFound(name);
    return {
      settings: parseSettings(record.settings),
      token: await this.d.connectors().secret('external', name, 'shared_token'),
    };
  }

  /** Shared-token auth: a valid bearer authenticates; none is allowed only with the explicit opt-in. */
  private authenticate(
    c: { settings: ExternalSettings; token: string | null },
    header: string | undefined,
  ): boolean {
    const presented = bearerOf(header);
    if (presented !== null && c.token !== null) {
      if (sameSecret(presented, c.token)) return true;
      throw unauthorized("the bearer token is not this connector's shared token");
    }
    if (c.settings.allow_unauthenticated_ingress && presented === null) return false;
    throw unauthorized('this connector requires Authorization: Bearer <shared_token>');
  }

  private checkVersion(v: number): void {
    if (!(INGRESS_VERSIONS as readonly number[]).includes(v))
      throw new DaemonError(
        400,
        'connectors',
        'unsupported_protocol_version',
        `ingress protocol_version ${v} is not supported; send 2 (1 is still accepted)`,
      );
  }

  /** Child-process sidecars must speak as the instance the daemon is running now. */
  private async checkInstance(
    name: string,
    s: ExternalSettings,
    instanceId: string | undefined,
  ): Promise<void> {
    if (s.mode !== 'child_process') return;
    const row = await readChild(this.d.store.db, name);
    if (!row?.instance_id || row.state !== 'ready')
      throw new DaemonError(
        503,
        'connectors',
        'sidecar_not_ready',
        `the sidecar of external/${name} is not ready`,
      );
    if (instanceId !== row.instance_id)
      throw new DaemonError(
        409,
        'connectors',
        'instance_id_mismatch',
        "instance_id does not match the running sidecar's manifest",
      );
  }

  private async one(
    name: string,
    c: { settings: ExternalSettings },
    event: ExternalEventBody,
    version: number,
    authenticated: boolean,
    signal?: AbortSignal,
  ): Promise<IngressResult> {
    checkInput(event, authenticated);
    await this.checkInstance(name, c.settings, event.instance_id);
    const ingress = await toIngressEvent(
      { name, settings: c.settings, event, protocolVersion: version, authenticated, assets: this.d.assets() },
      signal,
    );
    return this.d.connectors().ingest(ingress, { signal });
  }

  async submitEvent(
    name: string,
    header: string | undefined,
    body: ExternalEventBody & { protocol_version: number },
    signal?: AbortSignal,
  ): Promise<{
    event_id: string;
    status: 'accepted' | 'duplicate' | 'rejected';
    session_id: string;
    run_id: string;
  }> {
    const c = await this.connector(name);
    const authenticated = this.authenticate(c, header);
    this.checkVersion(body.protocol_version);
    const { protocol_version, ...event } = body;
    let r: IngressResult;
    try {
      r = await this.one(name, c, event, protocol_version, authenticated, signal);
    } catch (err) {
      const original = conflictingReplay(err);
      if (!original) throw err;
      return { event_id: event.event_id, status: 'rejected', ...original };
    }
    if (r.status === 'rate_limited') {
      const secs = Math.max(1, Math.ceil(r.retry_after_ms / 1000));
      throw new DaemonError(
        429,
        'connectors',
        'rate_limited',
        `external/${name} takes at most ingress_events_per_second new events; retry in ${secs} s`,
        { 'retry-after': String(secs) },
      );
    }
    return { event_id: event.event_id, status: r.status, session_id: r.session_id, run_id: r.run_id };
  }

  async submitBatch(
    name: string,
    header: string | undefined,
    body: { protocol_version: number; events: unknown[] },
    signal?: AbortSignal,
  ): Promise<{ protocol_version: number; results: BatchItemResult[] }> {
    const c = await this.connector(name);
    const authenticated = this.authenticate(c, header);
    this.checkVersion(body.protocol_version);
    const results: BatchItemResult[] = [];
    for (const [index, raw] of body.events.entries()) {
      const rawId = (raw as { event_id?: unknown } | null)?.event_id;
      const base = {
        index,
        event_id: typeof rawId === 'string' ? rawId : null,
        session_id: null,
        run_id: null,
      };
      const parsed = ExternalEventBody.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        results.push({
          ...base,
          status: 'rejected',
          code: 'invalid_event',
          detail: `${issue.path.join('.') || 'event'}: ${issue.message}`,
        });
        continue;
      }
      try {
        const r = await this.one(name, c, parsed.data, body.protocol_version, authenticated, signal);
        results.push(
          r.status === 'rate_limited'
            ? { ...base, status: 'rate_limited', retry_after_ms: Math.max(1, Math.ceil(r.retry_after_ms)) }
            : { ...base, status: r.status, session_id: r.session_id, run_id: r.run_id },
        );
      } catch (err) {
        if (signal?.aborted) throw err;
        const de = err instanceof DaemonError ? err : null;
        results.push({
          ...base,
          ...conflictingReplay(err),
          status: de && de.status < 500 ? 'rejected' : 'error',
          code: de?.code ?? 'internal_error',
          detail: de ? de.detail : 'the event could not be processed',
        });
      }
    }
    return { protocol_version: body.protocol_version, results };
  }

  // ---- credential broker endpoint

  async credential(name: string, envKey: string, header: string | undefined) {
    const record = await this.d.connectors().get('external', name);
    if (!record) throw notFound(name);
    const s = parseSettings(record.settings);
    const token = bearerOf(header);
    if (s.mode !== 'child_process' || !token)
      throw unauthorized('present the launch credential token as Authorization: Bearer');
    return this.d.grants().redeem(name, envKey, token, s.child_process?.credential_slots ?? {}, 60_000);
  }

  // ---- delivery asset download

  async deliveryAsset(name: string, deliveryId: string, assetId: string, header: string | undefined) {
    const c = await this.connector(name);
    const presented = bearerOf(header);
    // Without a shared token nobody can prove to be the sidecar: nothing is served.
    if (c.token === null || presented === null || !sameSecret(presented, c.token))
      throw unauthorized('present the connector shared token as Authorization: Bearer');
    const missing = new DaemonError(
      404,
      'connectors',
      'delivery_asset_not_found',
      'no such asset in a pending delivery',
    );
    if (!(await this.d.deliveryAssets.servable(name, deliveryId, assetId))) throw missing;
    const view = await this.d.assets().get(assetId);
    if (!view) throw missing;
    return { view, bytes: await this.d.assets().readRaw(assetId) };
  }

  // ---- status

  async status(): Promise<Record<string, unknown>> {
    const rows = await listChildren(this.d.store.db).catch(() => []);
    return {
      children: rows.map((r) => {
        const local = this.supervisors.get(r.connector);
        return {
          connector: r.connector,
          state: r.state,
          owner_replica_id: r.owner_replica_id,
          running_here: local !== undefined && local.state !== 'standby',
          pid: r.pid,
          instance_id: r.instance_id,
          restarts: r.restarts,
          last_error: r.last_error,
          started_at_ms: r.started_at_ms,
          ready_at_ms: r.ready_at_ms,
        };
      }),
    };
  }
}

/**
 * A reused event_id with another payload (api-collab §6.8): "duplicate and conflicting replays
 * return the original run and session ids". The ingest pipeline's 409 carries them.
 */
function conflictingReplay(err: unknown): { session_id: string; run_id: string } | null {
  if (!(err instanceof DaemonError) || err.code !== 'ingress_idempotency_conflict') return null;
  const { session_id, run_id } = err.extensions as { session_id?: unknown; run_id?: unknown };
  return typeof session_id === 'string' && typeof run_id === 'string' ? { session_id, run_id } : null;
}
