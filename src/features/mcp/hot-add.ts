// MCP servers added and removed on a running daemon (POST/DELETE /v1/runtime/mcp/servers, ops-runtime
// §8.1 "runtime API" source and §19 gap 11). The servers are one live setting (`mcp_servers`) of the
// revisioned runtime config: durable, reconnected at boot after the configured ones, rolled back
// with the rest, and applied on other PostgreSQL replicas from `runtime_updated`. The entry keeps
// the Codex-compatible shape of an `[mcp_servers.<name>]` table and goes through the same parser;
// secret values (env, headers, bearer token) are written to slots `mcp.custom.<server>.<KEY>` and
// the entry only names them.
import { z } from 'zod';
import { McpConfigError, parseServer } from '../../config/mcp-config.ts';
import { DaemonError } from '../../errors/daemon-error.ts';
import type { Kernel } from '../feature.ts';
import type { RuntimeService } from '../runtime/service.ts';
import type { SecretsService } from '../secrets/service.ts';
import { planCustom } from './inventory.ts';
import type { McpService } from './service.ts';

export const AddMcpServerBody = z
  .object({
    name: z.string().min(1),
    /** The `[mcp_servers.<name>]` keys: `command`/`args`/`env`/`cwd` (stdio) or `url`/`headers` (HTTP). */
    config: z.record(z.string(), z.unknown()),
    /** Secret values, stored encrypted; the entry references them (env_secret_refs and friends). */
    secrets: z
      .object({
        env: z.record(z.string(), z.string().min(1)).optional(),
        headers: z.record(z.string(), z.string().min(1)).optional(),
        bearer_token: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    expected_revision: z.number().int().min(0).optional(),
    skip_hooks: z.boolean().optional(),
  })
  .strict();
export type AddMcpServerBody = z.infer<typeof AddMcpServerBody>;

interface HotServerEntry {
  name: string;
  /** Codex-shaped config; secrets only as slot references. */
  config: Record<string, unknown>;
  /** Slots this API wrote for the server (removed with it). */
  owned_slots: string[];
  added_at_ms: number;
}

const SLOT_PART = /^[A-Za-z0-9_.-]+$/;
const invalid = (detail: string) => new DaemonError(400, 'mcp', 'invalid_mcp_server', detail);

export class McpHotAdd {
  private readonly k: Kernel;
  private readonly mcp: McpService;
  private readonly runtime: RuntimeService;
  /** Servers in force, by name, with the entry they were started from. */
  private readonly live = new Map<string, string>();
  private pending: Promise<void> = Promise.resolve();
  private deferred: HotServerEntry[] | null = null;

  constructor(k: Kernel, mcp: McpService, runtime: RuntimeService) {
    this.k = k;
    this.mcp = mcp;
    this.runtime = runtime;
    runtime.settings.define<HotServerEntry[]>('mcp_servers', { apply: (v) => this.apply(v ?? []) });
  }

  private entries(): HotServerEntry[] {
    return this.runtime.settings.value<HotServerEntry[]>('mcp_servers') ?? [];
  }

  private apply(entries: HotServerEntry[]): void {
    // Before the boot inventory is connected: started by `afterBoot`, after the configured servers.
    if (!this.mcp.booted) {
      this.deferred = entries;
      return;
    }
    this.pending = this.pending.then(() => this.sync(entries)).catch(() => undefined);
  }

  /** Connects the servers a restored revision lists, once the configured ones are up. */
  async afterBoot(): Promise<void> {
    const entries = this.deferred;
    this.deferred = null;
    if (entries) await this.sync(entries);
  }

  /** Waits for the connects and disconnects of the revisions applied so far. */
  settled(): Promise<void> {
    return this.pending;
  }

  private async sync(entries: HotServerEntry[]): Promise<void> {
    const wanted = new Map(entries.map((e) => [e.name, e]));
    for (const [name, fingerprint] of [...this.live])
      if (JSON.stringify(wanted.get(name) ?? null) !== fingerprint) {
        this.live.delete(name);
        await this.mcp.detach(name);
      }
    for (const entry of entries) {
      if (this.live.has(entry.name)) continue;
      if (this.mcp.connections.has(entry.name)) {
        this.k.log.warn(
          { mcp_server: entry.name },
          'runtime MCP server skipped: a configured server has that name',
        );
        continue;
      }
      try {
        const config = parseServer(entry.name, entry.config, 'the runtime API');
        const lookup = async (slot: string) => {
          const value = await this.k.secretStore.getSecretValue(slot);
          this.mcp.secretValues().push(value);
          return value;
        };
        const plan = await planCustom(config, false, lookup, process.env);
        plan.source = 'runtime_api';
        this.live.set(entry.name, JSON.stringify(entry));
        await this.mcp.attach(plan);
      } catch (err) {
        this.k.log.warn(
          { mcp_server: entry.name, error: (err as Error).message },
          'runtime MCP server not started',
        );
      }
    }
  }

  /** Adds a server: secrets into the store, a revision, then the connection (awaited). */
  async add(body: AddMcpServerBody, view: () => Record<string, unknown>): Promise<unknown> {
    const name = body.name;
    if (this.mcp.connections.has(name) || this.entries().some((e) => e.name === name))
      throw new DaemonError(409, 'mcp', 'mcp_server_exists', `MCP server \`${name}\` already exists`);
    const config: Record<string, unknown> = { ...body.config };
    const slots: Array<{ slot: string; value: string }> = [];
    const slotFor = (part: string, value: string) => {
      if (!SLOT_PART.test(part))
        throw invalid(`secret name \`${part}\` may only hold letters, digits, ., _ and -`);
      const slot = `mcp.custom.${name}.${part}`;
      slots.push({ slot, value });
      return slot;
    };
    const refs = (key: string, from: Record<string, string> | undefined) => {
      if (!from || Object.keys(from).length === 0) return;
      const existing = (config[key] ?? {}) as Record<string, string>;
      config[key] = {
        ...existing,
        ...Object.fromEntries(Object.entries(from).map(([k, v]) => [k, slotFor(k, v)])),
      };
    };
    refs('env_secret_refs', body.secrets?.env);
    refs('http_header_secret_refs', body.secrets?.headers);
    if (body.secrets?.bearer_token)
      config.bearer_token_secret_ref = slotFor('bearer_token', body.secrets.bearer_token);
    try {
      parseServer(name, config, 'the request');
    } catch (err) {
      if (err instanceof McpConfigError) throw invalid(err.message);
      throw err;
    }
    const secrets = this.k.use<SecretsService>('secrets');
    for (const s of slots)
      await secrets.put({
        slot_id: s.slot,
        provider: 'generic',
        mode: 'opaque_secret',
        state: { value: s.value },
      });
    const entry: HotServerEntry = {
      name,
      config,
      owned_slots: slots.map((s) => s.slot),
      added_at_ms: Date.now(),
    };
    try {
      await this.runtime.settings.mutateWith<HotServerEntry[]>(
        'mcp_servers',
        (current = []) => {
          if (current.some((e) => e.name === name))
            throw new DaemonError(409, 'mcp', 'mcp_server_exists', `MCP server \`${name}\` already exists`);
          return [...current, entry];
        },
        body,
        view,
      );
    } catch (err) {
      for (const s of slots) await secrets.delete(s.slot).catch(() => undefined);
      throw err;
    }
    await this.pending;
    return this.server(name);
  }

  async remove(name: string, view: () => Record<string, unknown>): Promise<Record<string, unknown>> {
    const entry = this.entries().find((e) => e.name === name);
    if (!entry) {
      if (this.mcp.connections.has(name))
        throw new DaemonError(
          409,
          'mcp',
          'mcp_server_not_runtime_managed',
          `MCP server \`${name}\` comes from --mcp-config or a profile; change that and restart to remove it`,
        );
      throw new DaemonError(
        404,
        'mcp',
        'mcp_server_not_found',
        `no MCP server \`${name}\` was added at runtime`,
      );
    }
    await this.runtime.settings.mutateWith<HotServerEntry[]>(
      'mcp_servers',
      (current = []) => current.filter((e) => e.name !== name),
      {},
      view,
    );
    await this.pending;
    const secrets = this.k.use<SecretsService>('secrets');
    for (const slot of entry.owned_slots) await secrets.delete(slot).catch(() => undefined);
    return { accepted: true, name, revision: this.runtime.settings.record.revision };
  }

  /** The server's entry of the `mcp.servers` runtime section. */
  server(name: string): unknown {
    const snapshot = this.mcp.snapshot();
    return snapshot.servers.find((s) => s.server === name) ?? null;
  }
}
