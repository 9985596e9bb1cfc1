// The MCP client of the daemon (ops-runtime §8): the boot-time inventory, one supervised
// connection per server, their tools in the registry, the runtime snapshot, capability-scope
// filtering and the operator's direct tool call.
import { McpConfigError } from '../../config/mcp-config.ts';
import { effectiveCapabilityScope } from '../../engine/capability-scope.ts';
import { DaemonError } from '../../errors/daemon-error.ts';
import { getSession } from '../../store/repos/sessions.ts';
import type { ToolResult } from '../../tools/registry.ts';
import type { CredentialsService } from '../credentials/service.ts';
import type { Kernel } from '../feature.ts';
import type { SecretsService } from '../secrets/service.ts';
import {
  capJson,
  renderResourceContents,
  renderToolResult,
  untrustedHeader,
  wrapInstructions,
} from './bounds.ts';
import { type CallResult, McpCallError, McpConnection } from './connection.ts';
import type { McpHotAdd } from './hot-add.ts';
import { type Inventory, loadInventory, type ServerPlan } from './inventory.ts';
import { hasMcpScope, MCP_HELPERS, type McpScope, serverVisible, toolVisible } from './scope.ts';
import {
  helperDefinitions,
  type McpCaller,
  type McpToolRef,
  qualifiedName,
  remoteToolDefinition,
  toolIncluded,
} from './tools.ts';

type Helper = (typeof MCP_HELPERS)[number];

/** Every resolved secret value (4+ characters) replaced, longest first. */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const v of [...secrets].filter((x) => x.length >= 4).sort((a, b) => b.length - a.length))
    out = out.split(v).join('[redacted]');
  return out;
}
type CallCtx = { session_id: string | null; signal: AbortSignal };

export class McpService implements McpCaller {
  private readonly k: Kernel;
  private inventory: Inventory | null = null;
  readonly connections = new Map<string, McpConnection>();
  /** Qualified tool name → its server and raw name. */
  private readonly refs = new Map<string, McpToolRef>();
  private booting = true;
  /** Servers added and removed on the running daemon (hot-add.ts). */
  hot?: McpHotAdd;

  constructor(k: Kernel) {
    this.k = k;
  }

  get active(): boolean {
    return this.connections.size > 0;
  }

  /** Loads the inventory and connects every server; a §8.2 violation or a required server down throws. */
  async boot(): Promise<void> {
    const inventory = await loadInventory(this.k.config.mcp, (slot) =>
      this.k.secretStore.getSecretValue(slot),
    );
    this.inventory = inventory;
    for (const plan of inventory.plans) {
      const conn = new McpConnection(plan, this.k.log, (text) => maskSecrets(text, inventory.secretValues));
      // An OAuth-backed server's tools are not registered: it only serves the resource helpers.
      if (!plan.config.oauth_slot_ref) conn.onTools = (c) => this.registerTools(c);
      this.connections.set(plan.config.name, conn);
    }
    await Promise.all([...this.connections.values()].map((c) => c.connect()));
    const down = [...this.connections.values()].filter((c) => c.plan.config.required && !c.connected);
    if (down.length)
      throw new McpConfigError(
        down
          .map(
            (c) =>
              `required MCP server \`${c.name}\` could not start: ${c.error}; fix it, or set \`required = false\` to start without it`,
          )
          .join('\n'),
      );
    this.booting = false;
    if (this.active) for (const helper of helperDefinitions(this)) this.k.tools.register(helper);
    for (const c of this.connections.values())
      if (c.error) this.k.log.warn({ mcp_server: c.name, error: c.error }, 'MCP server not connected');
  }

  /**
   * Connects a server added on the running daemon (hot-add.ts) and registers its tools; the
   * resource helpers appear with the first server. Resolves once the first connect attempt ends.
   */
  async attach(plan: ServerPlan): Promise<McpConnection> {
    const conn = new McpConnection(plan, this.k.log, (text) => maskSecrets(text, this.secretValues()));
    conn.onTools = (c) => this.registerTools(c);
    const first = !this.active;
    this.connections.set(plan.config.name, conn);
    if (first) for (const helper of helperDefinitions(this)) this.k.tools.register(helper);
    await conn.connect();
    if (conn.error) this.k.log.warn({ mcp_server: conn.name, error: conn.error }, 'MCP server not connected');
    return conn;
  }

  /** Disconnects a server and drops its tools from the registry (and the helpers with the last one). */
  async detach(name: string): Promise<void> {
    const conn = this.connections.get(name);
    if (!conn) return;
    this.connections.delete(name);
    for (const [qualified, ref] of [...this.refs])
      if (ref.server === name) {
        this.refs.delete(qualified);
        this.k.tools.unregister(qualified);
      }
    if (!this.active) for (const helper of MCP_HELPERS) this.k.tools.unregister(helper);
    await conn.close();
  }

  /** Whether the boot inventory is loaded (hot-added servers wait for it). */
  get booted(): boolean {
    return !this.booting;
  }

  /** Registers a connection's tools; at boot a name collision fails the start (ops-runtime #38). */
  private registerTools(conn: McpConnection): void {
    for (const remote of conn.tools) {
      if (!toolIncluded(conn, remote.name)) continue;
      const qualified = qualifiedName(conn.name, remote.name);
      const existing = this.refs.get(qualified);
      if (existing && (existing.server !== conn.name || existing.tool !== remote.name)) {
        const message = `MCP tools \`${existing.server}/${existing.tool}\` and \`${conn.name}/${remote.name}\` both become \`${qualified}\`; rename a server, or hide one tool with \`disabled_tools\``;
        if (this.booting) throw new McpConfigError(message);
        this.k.log.warn({ mcp_server: conn.name }, message);
        continue;
      }
      const ref: McpToolRef = {
        server: conn.name,
        tool: remote.name,
        qualified,
        readOnly: remote.annotations?.readOnlyHint === true,
      };
      this.refs.set(qualified, ref);
      this.k.tools.register(remoteToolDefinition(ref, remote, this));
    }
  }

  /** What names a secret slot, for DELETE /v1/runtime/secrets (409 while referenced). */
  referencesTo(slot: string): string[] {
    const servers = [...this.connections.values()]
      .filter((c) => c.plan.credential_secret_refs.includes(slot))
      .map((c) => c.name);
    return servers.length ? [`one or more MCP servers (${servers.join(', ')})`] : [];
  }

  secretValues(): string[] {
    return this.inventory?.secretValues ?? [];
  }

  /** The session's effective capability scope (persona baseline, its own, its parents'). */
  async scopeOf(sessionId: string | null): Promise<McpScope | null> {
    if (!sessionId) return null;
    const row = await getSession(this.k.store.db, sessionId);
    const scope = row ? await effectiveCapabilityScope(this.k.store.db, row) : null;
    return hasMcpScope(scope) ? scope : null;
  }

  /**
   * Credential scope (ops-runtime §5.4): a server that uses daemon-held credentials is usable
   * only through a broker lease (docs/credentials.md): the session chain's `credential_scope`
   * must admit it (a sidechain without one gets `*` denied) and no subject or slot be revoked.
   */
  private async credentialRefusal(sessionId: string | null, conn: McpConnection): Promise<string | null> {
    if (!sessionId || !conn.plan.uses_credentials) return null;
    const { broker } = this.k.use<CredentialsService>('credentials');
    const refusal = await broker.authorizeMcp(sessionId, conn.name, conn.plan.credential_secret_refs);
    return refusal?.message ?? null;
  }

  /** Whether a registry tool is visible under a scope (non-MCP tools always are). */
  visible(name: string, scope: McpScope | null): boolean {
    const ref = this.refs.get(name);
    if (ref) return toolVisible(scope, name, ref.server);
    if ((MCP_HELPERS as readonly string[]).includes(name))
      return (
        toolVisible(scope, name, null) && [...this.connections.keys()].some((s) => serverVisible(scope, s))
      );
    return true;
  }

  /** The MCP part of a run's tool surface (wraps engine.toolSurfaceFor). */
  async filterSurface(
    sessionId: string,
    outer: ReadonlySet<string> | null,
  ): Promise<ReadonlySet<string> | null> {
    if (!this.active) return outer;
    const scope = await this.scopeOf(sessionId);
    if (!scope) return outer;
    const names = outer ? [...outer] : this.k.tools.list().map((t) => t.name);
    return new Set(names.filter((n) => this.visible(n, scope)));
  }

  /** Instructions of the connected servers the session sees, framed as untrusted. */
  async promptParts(sessionId: string): Promise<string[]> {
    if (!this.active) return [];
    const scope = await this.scopeOf(sessionId);
    const out: string[] = [];
    for (const c of this.connections.values())
      if (c.connected && serverVisible(scope, c.name)) {
        const wrapped = wrapInstructions(c.name, c.instructions);
        if (wrapped) out.push(wrapped);
      }
    return out;
  }

  async callTool(ref: McpToolRef, args: Record<string, unknown>, ctx: CallCtx): Promise<ToolResult> {
    const conn = this.connections.get(ref.server);
    if (!conn) return { content: `MCP server \`${ref.server}\` is not configured`, is_error: true };
    const refused = await this.credentialRefusal(ctx.session_id, conn);
    if (refused) return { content: refused, is_error: true };
    try {
      const result = await conn.callTool(ref.tool, args, ctx.signal);
      return { content: renderToolResult(ref.server, result), is_error: result.isError === true };
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      return { content: (err as Error).message, is_error: true };
    }
  }

  async helper(name: Helper, args: Record<string, unknown>, ctx: CallCtx): Promise<ToolResult> {
    const scope = await this.scopeOf(ctx.session_id);
    const server = typeof args.server === 'string' ? args.server : undefined;
    if (server !== undefined && (!this.connections.has(server) || !serverVisible(scope, server)))
      return { content: `no MCP server \`${server}\` is available to this session`, is_error: true };
    try {
      if (name === 'read_mcp_resource') {
        if (!server || typeof args.uri !== 'string')
          return { content: 'read_mcp_resource needs `server` and `uri`', is_error: true };
        const conn = this.connections.get(server)!;
        const refused = await this.credentialRefusal(ctx.session_id, conn);
        if (refused) return { content: refused, is_error: true };
        await this.initializeScoped(conn);
        const out = await conn.request((c, o) => c.readResource({ uri: args.uri as string }, o), ctx.signal);
        return { content: renderResourceContents(server, out.contents), is_error: false };
      }
      if (server) {
        const conn = this.connections.get(server)!;
        if (!(await this.credentialRefusal(ctx.session_id, conn))) await this.initializeScoped(conn);
      }
      const targets = server ? [server] : [...this.connections.keys()].filter((s) => serverVisible(scope, s));
      const cursor = typeof args.cursor === 'string' ? args.cursor : undefined;
      const listing: Record<string, unknown> = {};
      for (const s of targets) {
        const conn = this.connections.get(s)!;
        const refused = await this.credentialRefusal(ctx.session_id, conn);
        const caps = refused ? { error: refused } : conn.connected ? undefined : { error: conn.error };
        if (caps) {
          listing[s] = caps;
          continue;
        }
        try {
          listing[s] =
            name === 'list_mcp_resources'
              ? await conn.request((c, o) => c.listResources(cursor ? { cursor } : {}, o), ctx.signal)
              : await conn.request(
                  (c, o) => c.listResourceTemplates(cursor ? { cursor } : {}, o),
                  ctx.signal,
                );
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          listing[s] = { error: (err as Error).message };
        }
      }
      const label = targets.length === 1 ? untrustedHeader(targets[0]!) : '[untrusted output of MCP servers]';
      return { content: `${label}\n${JSON.stringify(capJson(listing), null, 1)}`, is_error: false };
    } catch (err) {
      if (ctx.signal.aborted || !(err instanceof McpCallError)) throw err;
      return { content: err.message, is_error: true };
    }
  }

  /**
   * An OAuth-backed server is connected only here, when a session names it in a resource helper
   * and its credential scope allows it; the account is re-read before every request.
   */
  private async initializeScoped(conn: McpConnection): Promise<void> {
    const slot = conn.plan.config.oauth_slot_ref;
    if (!slot || conn.connected) return;
    const authorize = this.authorizer(conn, slot);
    try {
      await authorize();
    } catch (err) {
      throw new McpCallError(`MCP server \`${conn.name}\` cannot be initialized: ${(err as Error).message}`);
    }
    await conn.connectScoped(authorize);
  }

  private authorizer(conn: McpConnection, slot: string) {
    const c = conn.plan.config;
    return async () => {
      const state = await this.k.secretStore.getSecretState(slot);
      const token = state.access_token;
      if (typeof token !== 'string' || !token)
        throw new Error(`MCP OAuth account ${slot} holds no access token`);
      if (typeof state.expires_at_ms === 'number' && state.expires_at_ms <= Date.now())
        throw new Error(`MCP OAuth account ${slot} has expired; run \`kheish-daemon mcp oauth login\` again`);
      const resource = c.oauth_resource ?? c.url;
      if (typeof state.resource === 'string' && state.resource !== resource)
        throw new Error(`oauth_resource ${resource} does not match the login resource ${state.resource}`);
      const approved = Array.isArray(state.scopes) ? (state.scopes as string[]) : [];
      const extra = c.oauth_scopes.filter((x) => !approved.includes(x));
      if (extra.length) throw new Error(`attempted to add unapproved scope ${extra.join(', ')}`);
      return `Bearer ${token}`;
    };
  }

  /** POST /v1/runtime/mcp/tools/call: the operator calls a loaded tool directly (no permission step). */
  async operatorCall(name: string, args: Record<string, unknown>, signal: AbortSignal) {
    const ref = this.refs.get(name);
    if (!ref)
      throw new DaemonError(
        404,
        'mcp',
        'mcp_tool_not_found',
        `no MCP tool \`${name}\` is loaded; see mcp.tool_names in GET /v1/runtime`,
      );
    const conn = this.connections.get(ref.server)!;
    let result: CallResult;
    try {
      result = await conn.callTool(ref.tool, args, signal);
    } catch (err) {
      throw new DaemonError(502, 'mcp', 'mcp_tool_call_failed', (err as Error).message);
    }
    // A server may print its own credentials (an env dump): no secret the daemon holds goes back.
    const secrets = this.k.engine.secretValues();
    const mask = <T>(v: T): T => JSON.parse(maskSecrets(JSON.stringify(v), secrets)) as T;
    return {
      tool_name: name,
      server: ref.server,
      tool: ref.tool,
      is_error: result.isError === true,
      content: maskSecrets(renderToolResult(ref.server, result), secrets),
      ...(result.structuredContent !== undefined
        ? { structured_content: mask(capJson(result.structuredContent)) }
        : {}),
    };
  }

  /** Stores a completed MCP OAuth login as an `oauth_account` slot (write-only). */
  importOauthAccount(body: Record<string, unknown> & { slot_id: string }) {
    const { slot_id, ...state } = body;
    return this.k
      .use<SecretsService>('secrets')
      .put({ slot_id, provider: 'generic', mode: 'oauth_account', state: { kind: 'mcp_oauth', ...state } });
  }

  /** The `mcp` section of GET /v1/runtime (ops-runtime §8.4). */
  snapshot() {
    const inv = this.inventory;
    const toolsOf = (server: string) =>
      [...this.refs.values()].filter((r) => r.server === server).map((r) => r.qualified);
    return {
      config_path: inv?.configPath ?? null,
      selected_profiles: inv?.selectedProfiles ?? [],
      servers: [...this.connections.values()].map((c) => ({
        server: c.name,
        source: c.plan.source,
        profiles: c.plan.profiles,
        catalog_entry_id: c.plan.catalog_entry_id,
        transport: c.plan.config.transport,
        uses_credentials: c.plan.uses_credentials,
        credential_secret_refs: c.plan.credential_secret_refs,
        connected: c.connected,
        tools: toolsOf(c.name),
        error: c.error,
        instructions: c.connected ? wrapInstructions(c.name, c.instructions) : null,
      })),
      tool_names: this.active ? [...MCP_HELPERS, ...this.refs.keys()] : [],
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.connections.values()].map((c) => c.close()));
  }
}
