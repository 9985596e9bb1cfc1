// The connectors feature's service: the registry, the ingress pipeline and the HTTP transport
// behind one object, which is also the ConnectorsPort other transports use.
import type { Logger } from 'pino';
import type { Engine } from '../../engine/engine.ts';
import type { SecretStore } from '../../secrets/secret-store.ts';
import type { DeliveriesPort } from '../deliveries/port.ts';
import { type HttpIngressRequest, handleHttpIngress } from './http-ingress.ts';
import { IngressPipeline } from './ingest.ts';
import type {
  ConnectorKind,
  ConnectorKindAdapter,
  ConnectorRecord,
  ConnectorsPort,
  IngressEvent,
  IngressResult,
  SessionReplyDefaultsPort,
} from './port.ts';
import { IngressRateLimiter } from './rate-limit.ts';
import { ConnectorRegistry, connectorNotFound, toRecord } from './registry.ts';

export interface ConnectorsDeps {
  engine: Engine;
  secretStore: SecretStore;
  log: Logger;
  /** --connectors-config, read by prepare(). */
  configPath: string | null;
  createSession(body: Record<string, unknown>): Promise<unknown>;
  /** The deliveries feature's service, or null while this daemon has none. */
  deliveries(): (DeliveriesPort & SessionReplyDefaultsPort) | null;
}

export class ConnectorsService implements ConnectorsPort {
  readonly registry: ConnectorRegistry;
  readonly limiter = new IngressRateLimiter();
  private readonly pipeline: IngressPipeline;
  private readonly deps: ConnectorsDeps;
  readonly configPath: string | null;

  constructor(deps: ConnectorsDeps) {
    this.deps = deps;
    this.configPath = deps.configPath;
    this.registry = new ConnectorRegistry(deps.engine.store, deps.engine.events, deps.secretStore, deps.log, {
      clearTargets: async (kind, name) => (await deps.deliveries()?.clearConnectorTargets?.(kind, name)) ?? 0,
      normalizeTargets: () => {
        const d = deps.deliveries();
        return d ? (r) => d.normalizeTargets(r) : null;
      },
    });
    this.pipeline = new IngressPipeline({
      engine: deps.engine,
      entry: (kind, name) => this.registry.entry(kind, name),
      limiter: this.limiter,
      createSession: (body) => deps.createSession(body),
      replyDefaults: () => deps.deliveries(),
      warn: (obj, msg) => deps.log.warn(obj, msg),
    });
  }

  registerKind(adapter: ConnectorKindAdapter): void {
    this.registry.registerKind(adapter);
  }

  async get(kind: ConnectorKind, name: string): Promise<ConnectorRecord | null> {
    const e = await this.registry.entry(kind, name);
    return e && toRecord(e);
  }

  secret(kind: ConnectorKind, name: string, field: string): Promise<string | null> {
    return this.registry.secret(kind, name, field);
  }

  /** Per-process ingress outcomes, for GET /v1/status (`connectors.ingress`). */
  readonly counters = { accepted: 0, duplicate: 0, rate_limited: 0, refused: 0 };

  async ingest(event: IngressEvent, opts?: Parameters<ConnectorsPort['ingest']>[1]): Promise<IngressResult> {
    try {
      const out = await this.pipeline.ingest(event, opts);
      this.counters[out.status]++;
      return out;
    } catch (err) {
      this.counters.refused++;
      throw err;
    }
  }

  async statusView() {
    const all = await this.registry.list();
    return {
      file: all.filter((e) => e.source === 'file').length,
      daemon: all.filter((e) => e.source === 'daemon').length,
      ingress: { ...this.counters },
    };
  }

  async listRecords(kind: ConnectorKind): Promise<ConnectorRecord[]> {
    return (await this.registry.list()).filter((e) => e.kind === kind).map(toRecord);
  }

  // ---- control plane

  async list() {
    return (await this.registry.list()).map((e) => this.registry.view(e));
  }

  async view(kindRaw: string, name: string) {
    const kind = this.registry.checkKind(kindRaw);
    const e = await this.registry.entry(kind, name);
    if (!e) throw connectorNotFound(kind, name);
    return this.registry.view(e);
  }

  async put(kind: string, name: string, body: Record<string, unknown>) {
    const view = await this.registry.put(kind, name, body);
    this.limiter.reset(`${kind}/${name}/`);
    return view;
  }

  async remove(kind: string, name: string) {
    const out = await this.registry.remove(kind, name);
    this.limiter.reset(`${kind}/${name}/`);
    return out;
  }

  // ---- HTTP transport

  async httpIngress(name: string, req: HttpIngressRequest) {
    const deliveries = this.deps.deliveries();
    let reached = false;
    try {
      return await handleHttpIngress(
        {
          entry: (n) => this.registry.entry('http', n),
          secret: (n, field) => this.registry.secret('http', n, field),
          ingest: (event) => {
            reached = true;
            return this.ingest(event);
          },
          normalizeTargets: deliveries ? (r) => deliveries.normalizeTargets(r) : null,
          nowMs: () => Date.now(),
        },
        name,
        req,
      );
    } catch (err) {
      // Refusals before the pipeline (auth, payload rules) count too; the pipeline counted its own.
      if (!reached) this.counters.refused++;
      throw err;
    }
  }
}
