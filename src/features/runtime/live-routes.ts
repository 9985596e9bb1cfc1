// Model routes added and removed on a running daemon (POST/DELETE /v1/runtime/routes, ops-runtime
// §4.6 and §19 gap 11). The list of runtime-added routes is one live setting (`routes`) of the
// revisioned runtime config (settings.ts): durable, restored at boot before any run, rolled back
// with the rest, and applied on other PostgreSQL replicas from `runtime_updated`. An API key goes
// straight into the encrypted secret store as slot `routes.<route_id>.api_key`; the setting (and
// so every revision, event and log line) only names that slot.
import { z } from 'zod';
import {
  checkBaseUrl,
  DEFAULT_CONTEXT_WINDOW,
  DEFAULT_MAX_RETRIES,
  type DriverName,
  type RouteConfig,
} from '../../config/routes-file.ts';
import type { Engine } from '../../engine/engine.ts';
import { DaemonError } from '../../errors/daemon-error.ts';
import type { SlotCache } from '../../models/slot-cache.ts';
import { countLiveRunsOnRoute } from '../../store/repos/runs.ts';
import type { RuntimeSettings } from './settings.ts';

/** Drivers a route can be added with on a running daemon (scripted routes stay in routes files). */
export const LIVE_ROUTE_DRIVERS = ['openai', 'anthropic', 'google', 'openrouter', 'xai', 'openai_compatible'];

/** The model a route gets when the request names none (the published per-driver defaults). */
const DEFAULT_MODELS: Record<string, string> = {
  anthropic: 'claude-opus-4-6',
  google: 'gemini-2.5-flash',
  openai: 'gpt-5.4',
  openrouter: 'openai/gpt-5.4-mini',
  xai: 'grok-4-fast-reasoning',
};

/** The slot provider of each driver (AuthSlotRecord spells OpenAI `open_ai`). */
const SLOT_PROVIDER: Record<string, string> = {
  openai: 'open_ai',
  anthropic: 'anthropic',
  google: 'google',
  openrouter: 'openrouter',
  xai: 'xai',
  openai_compatible: 'generic',
};

export const AddRouteBody = z
  .object({
    route_id: z.string(),
    /** The driver (`openai`, `anthropic`...); `driver` is accepted as the routes-file spelling. */
    provider: z.string().optional(),
    driver: z.string().optional(),
    /** The route's default model; `default_model` is accepted as the routes-file spelling. */
    model: z.string().optional(),
    default_model: z.string().optional(),
    base_url: z.string().optional(),
    /** Stored encrypted as `routes.<route_id>.api_key`; never echoed, logged or revisioned. */
    api_key: z.string().optional(),
    /** An existing secret slot to read the key from instead of `api_key`. */
    auth_ref: z.string().optional(),
    expected_revision: z.number().int().min(0).optional(),
    skip_hooks: z.boolean().optional(),
  })
  .strict();
export type AddRouteBody = z.infer<typeof AddRouteBody>;

/** One runtime-added route as the revisioned setting keeps it: no secret, only the slot's name. */
export interface LiveRouteEntry {
  route_id: string;
  driver: string;
  default_model: string;
  base_url?: string;
  auth_ref?: string;
  /** The slot was written by this API (removed with the route). */
  owns_slot: boolean;
  added_at_ms: number;
}

const invalid = (detail: string) => new DaemonError(400, 'routes', 'invalid_route', detail);

export const routeKeySlot = (routeId: string) => `routes.${routeId}.api_key`;

function toRouteConfig(e: LiveRouteEntry): RouteConfig {
  const driver = e.driver as DriverName;
  return {
    route_id: e.route_id,
    driver,
    default_model: e.default_model,
    auth_ref: e.auth_ref,
    base_url: e.base_url,
    capabilities: {},
    extra: {},
    max_retries: DEFAULT_MAX_RETRIES,
    fallback_routes: [],
    context_window_tokens: DEFAULT_CONTEXT_WINDOW[driver] ?? 0,
  };
}

/** What the secrets feature offers this one: slot writes and deletes that reload the route slots. */
export interface SlotWriter {
  put(record: unknown): Promise<unknown>;
  delete(slotId: string): Promise<unknown>;
  exists(slotId: string): Promise<boolean>;
}

export class LiveRoutes {
  private readonly engine: Engine;
  private readonly settings: RuntimeSettings;
  private readonly slots: SlotCache;
  /** Resolved lazily: the secrets feature is built after the runtime one may be. */
  writer?: () => SlotWriter;
  /** A slot reload started by a revision that came from another replica (or the boot record). */
  private pending: Promise<void> = Promise.resolve();

  constructor(engine: Engine, settings: RuntimeSettings, slots: SlotCache) {
    this.engine = engine;
    this.settings = settings;
    this.slots = slots;
    // Defined before the default model, so a revision naming a runtime-added route finds it.
    settings.define<LiveRouteEntry[]>('routes', { apply: (v) => this.apply(v ?? []) });
  }

  private apply(entries: LiveRouteEntry[]): void {
    this.engine.routes.syncLive(entries.map(toRouteConfig));
    const refs = entries.flatMap((e) => (e.auth_ref ? [e.auth_ref] : []));
    if (this.slots.trackLive(refs))
      this.pending = this.slots
        .reload()
        .then(() => {
          for (const e of entries) this.engine.routes.refresh(e.route_id);
        })
        .catch(() => undefined);
  }

  /** Waits for the route keys a restored revision needs (boot: before runs are recovered). */
  settled(): Promise<void> {
    return this.pending;
  }

  entries(): LiveRouteEntry[] {
    return this.settings.value<LiveRouteEntry[]>('routes') ?? [];
  }

  /** Which runtime-added route reads a slot (DELETE /v1/runtime/secrets answers 409 meanwhile). */
  referencesTo(slot: string): string[] {
    return this.entries()
      .filter((e) => e.auth_ref === slot)
      .map((e) => `runtime route \`${e.route_id}\``);
  }

  private validate(body: AddRouteBody): Omit<LiveRouteEntry, 'owns_slot' | 'added_at_ms'> {
    const id = body.route_id;
    if (id.length === 0 || id.length > 64 || /[/\s]/.test(id) || !/^[A-Za-z0-9._-]+$/.test(id))
      throw invalid('route_id must be 1-64 letters, digits, `.`, `_` or `-` (no `/`, no spaces)');
    if (this.engine.routes.get(id))
      throw new DaemonError(409, 'routes', 'route_already_exists', `route \`${id}\` already exists`);
    if (body.provider && body.driver && body.provider !== body.driver)
      throw invalid('`provider` and `driver` name different drivers; send one of them');
    const raw = body.provider ?? body.driver;
    if (!raw) throw invalid(`\`provider\` is required (one of ${LIVE_ROUTE_DRIVERS.join(', ')})`);
    const driver = raw === 'open_ai' ? 'openai' : raw;
    if (!LIVE_ROUTE_DRIVERS.includes(driver))
      throw invalid(`unknown provider \`${raw}\` (one of ${LIVE_ROUTE_DRIVERS.join(', ')})`);
    const model = (body.model ?? body.default_model ?? DEFAULT_MODELS[driver] ?? '').trim();
    if (!model) throw invalid(`\`model\` is required for provider ${driver}`);
    if (body.base_url !== undefined) {
      const problem = checkBaseUrl(body.base_url);
      if (problem) throw invalid(`base_url ${problem}`);
    } else if (driver === 'openai_compatible') throw invalid('`base_url` is required for openai_compatible');
    if (body.api_key !== undefined && body.auth_ref !== undefined)
      throw invalid('send `api_key` or `auth_ref`, not both');
    if (body.api_key !== undefined && body.api_key.trim() === '')
      throw invalid('`api_key` must not be empty');
    if (body.api_key === undefined && body.auth_ref === undefined && driver !== 'openai_compatible')
      throw invalid(`\`api_key\` is required for provider ${driver} (or \`auth_ref\` naming a stored slot)`);
    return {
      route_id: id,
      driver,
      default_model: model,
      ...(body.base_url !== undefined ? { base_url: body.base_url } : {}),
      ...(body.auth_ref !== undefined ? { auth_ref: body.auth_ref } : {}),
    };
  }

  /** Adds a route: its key into the secret store first, then the revision that puts it in force. */
  async add(body: AddRouteBody, view: () => Record<string, unknown>): Promise<Record<string, unknown>> {
    const checked = this.validate(body);
    const writer = this.writer!();
    if (checked.auth_ref && !(await writer.exists(checked.auth_ref)))
      throw invalid(`auth_ref names no secret slot \`${checked.auth_ref}\`; store it first`);
    const ownsSlot = body.api_key !== undefined;
    const entry: LiveRouteEntry = {
      ...checked,
      ...(ownsSlot ? { auth_ref: routeKeySlot(checked.route_id) } : {}),
      owns_slot: ownsSlot,
      added_at_ms: Date.now(),
    };
    const others = this.entries();
    // Tracked before the revision, so the route is built with its key already loaded.
    this.slots.trackLive([...others, entry].flatMap((e) => (e.auth_ref ? [e.auth_ref] : [])));
    if (!ownsSlot) await this.slots.reload();
    else
      await writer.put({
        slot_id: entry.auth_ref,
        provider: SLOT_PROVIDER[entry.driver],
        mode: 'api_key',
        state: { kind: 'api_key', api_key: body.api_key },
      });
    try {
      await this.settings.mutateWith<LiveRouteEntry[]>(
        'routes',
        (current = []) => {
          // Another request or replica may have added it since the check above.
          if (current.some((e) => e.route_id === entry.route_id))
            throw new DaemonError(
              409,
              'routes',
              'route_already_exists',
              `route \`${entry.route_id}\` already exists`,
            );
          return [...current, entry];
        },
        body,
        view,
      );
    } catch (err) {
      if (ownsSlot) await writer.delete(entry.auth_ref!).catch(() => undefined);
      throw err;
    }
    return { route: this.view(entry.route_id), default_route: this.engine.routes.defaultRoute || null };
  }

  /**
   * Removes a runtime-added route. Refused (409) for a routes-file route, while a live run is
   * pinned to it, or while it is the default and other routes remain (choose another default first).
   */
  async remove(
    routeId: string,
    opts: { expected_revision?: number; skip_hooks?: boolean },
    view: () => Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const routes = this.engine.routes;
    if (!routes.get(routeId))
      throw new DaemonError(404, 'routes', 'route_not_found', `route \`${routeId}\` is not configured`);
    const entry = this.entries().find((e) => e.route_id === routeId);
    if (!entry || !routes.isLive(routeId))
      throw new DaemonError(
        409,
        'routes',
        'route_not_runtime_managed',
        `route \`${routeId}\` comes from the routes file; edit that file and restart to remove it`,
      );
    const pinned = await countLiveRunsOnRoute(this.engine.store.db, routeId);
    if (pinned > 0)
      throw new DaemonError(
        409,
        'routes',
        'route_in_use',
        `${pinned} queued or active run(s) are pinned to route \`${routeId}\`; wait for them or cancel them first`,
      );
    if (routes.defaultRoute === routeId && routes.list().length > 1)
      throw new DaemonError(
        409,
        'routes',
        'route_is_default',
        `route \`${routeId}\` is the default route; make another route the default first (\`kheish-daemon runtime set-model <route>/<model>\`)`,
      );
    await this.settings.mutateWith<LiveRouteEntry[]>(
      'routes',
      (current = []) => current.filter((e) => e.route_id !== routeId),
      opts,
      view,
    );
    if (entry.owns_slot && entry.auth_ref)
      await this.writer!()
        .delete(entry.auth_ref)
        .catch(() => undefined);
    return {
      accepted: true,
      route_id: routeId,
      default_route: routes.defaultRoute || null,
      revision: this.settings.record.revision,
    };
  }

  /** Set by the service: the GET /v1/runtime/routes entry of one route. */
  view: (routeId: string) => unknown = () => null;
}
