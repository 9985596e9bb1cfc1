// How an API domain plugs into the daemon (ARCHITECTURE §3, "Composition as features grow"). Each
// src/features/<domain>/index.ts exports one FeatureModule; src/features/index.ts lists them and
// src/daemon.ts composes the list, so adding a domain touches its own folder and that list only.
// A feature reaches another only through the other's service, asked for by name (`use`).
import type { Logger } from 'pino';
import type { ServeConfig } from '../config/serve-options.ts';
import type { Engine } from '../engine/engine.ts';
import type { ReplicaRuntime } from '../engine/replica.ts';
import type { HttpApp } from '../http/context.ts';
import type { SlotCache } from '../models/slot-cache.ts';
import type { SecretStore } from '../secrets/secret-store.ts';
import type { EventLog } from '../store/event-log.ts';
import type { Store } from '../store/store.ts';
import type { ToolRegistry } from '../tools/registry.ts';
import type { LiveToolLimits } from '../tools/runtime-limits.ts';

/** What every feature is built from: the daemon's shared parts. */
export interface Kernel {
  config: ServeConfig;
  log: Logger;
  store: Store;
  events: EventLog;
  engine: Engine;
  tools: ToolRegistry;
  toolLimits: LiveToolLimits;
  secretStore: SecretStore;
  slots: SlotCache;
  replica: ReplicaRuntime;
  /** Who holds the state-root lock (for /v1/status). */
  lockOwner: string;
  authEnabled: boolean;
  startedAtMs: number;
  /** The service of another feature (built first if it is not yet). */
  use<S>(name: string): S;
}

export interface FeatureModule<S = unknown> {
  /** The domain's name, also the key other features `use` it by. */
  name: string;
  /** Builds the service, registers the feature's tools and engine hooks; before run recovery. */
  create(k: Kernel): S;
  /** HTTP binding (routes only: parse, call the service, render). */
  routes?(app: HttpApp, service: S, k: Kernel): void;
  /** After every feature is built, before run recovery: load persisted state, settle what a dead process left. */
  prepare?(service: S): Promise<void>;
  /** After run recovery: timers, dispatchers. */
  start?(service: S): Promise<void> | void;
  /** At shutdown, before the executors are drained: stop timers. */
  stop?(service: S): void;
  /** At shutdown, after the executors are drained. */
  shutdown?(service: S): Promise<void>;
}

interface Built {
  module: FeatureModule;
  service: unknown;
}

/** The composed features: each built once, on first use or in list order, whichever comes first. */
export class Features {
  private readonly modules: Map<string, FeatureModule>;
  private readonly built = new Map<string, Built>();
  private readonly building = new Set<string>();
  readonly kernel: Kernel;

  constructor(modules: FeatureModule<any>[], kernel: Omit<Kernel, 'use'>) {
    this.modules = new Map(modules.map((m) => [m.name, m]));
    this.kernel = { ...kernel, use: <S>(name: string) => this.service<S>(name) };
    for (const m of modules) this.service(m.name);
  }

  service<S>(name: string): S {
    const done = this.built.get(name);
    if (done) return done.service as S;
    const module = this.modules.get(name);
    if (!module) throw new Error(`no feature named ${name}`);
    if (this.building.has(name)) throw new Error(`features depend on each other in a circle through ${name}`);
    this.building.add(name);
    const service = module.create(this.kernel);
    this.building.delete(name);
    this.built.set(name, { module, service });
    return service as S;
  }

  /** In list order (the order of the routes in the OpenAPI document). */
  private list(): Built[] {
    return [...this.modules.keys()].map((name) => this.built.get(name)!);
  }

  mountRoutes(app: HttpApp): void {
    for (const f of this.list()) f.module.routes?.(app, f.service, this.kernel);
  }

  async prepare(): Promise<void> {
    for (const f of this.list()) await f.module.prepare?.(f.service);
  }

  async start(): Promise<void> {
    for (const f of this.list()) await f.module.start?.(f.service);
  }

  stop(): void {
    for (const f of this.list()) f.module.stop?.(f.service);
  }

  async shutdown(): Promise<void> {
    for (const f of this.list()) await f.module.shutdown?.(f.service);
  }
}
