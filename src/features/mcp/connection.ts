// One daemon-global client per configured MCP server: connect within startup_timeout, list its
// tools, and supervise it. A server that exits, stops answering or overflows a frame is marked
// disconnected (calls fail at once with a clear error) and reconnected in the background with
// exponential backoff; the daemon itself is never affected.
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Logger } from 'pino';
import { DAEMON_VERSION } from '../../version.ts';
import type { ServerPlan } from './inventory.ts';
import { type Authorize, type OpenedTransport, openTransport } from './transports.ts';

export interface RemoteTool {
  name: string;
  description?: string;
  inputSchema: Record<string, unknown>;
  annotations?: { readOnlyHint?: boolean };
}

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 30_000;
const MAX_TOOLS = 1000;

export class McpCallError extends Error {}

/** A tools/call result as the daemon reads it (older servers answer `toolResult` instead). */
export interface CallResult {
  content?: unknown;
  structuredContent?: unknown;
  isError?: unknown;
  toolResult?: unknown;
}

export class McpConnection {
  readonly plan: ServerPlan;
  private readonly log: Logger;
  private client: Client | null = null;
  private opened: OpenedTransport | null = null;
  connected = false;
  error: string | null;
  tools: RemoteTool[] = [];
  instructions: string | undefined;
  private failures = 0;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private connecting: Promise<void> | null = null;
  /**
   * Set for an OAuth-backed server once a session initializes it (connectScoped): every request
   * re-reads the account, and a lost connection waits for the next scoped call instead of a timer.
   */
  private authorize: Authorize | undefined;
  /** Called after every successful (re)connection, with the tools it now offers. */
  onTools: (conn: McpConnection) => void = () => undefined;

  /** Hides secret values in messages built from what a server said (stderr, error texts). */
  private readonly mask: (text: string) => string;

  constructor(plan: ServerPlan, log: Logger, mask: (text: string) => string = (t) => t) {
    this.plan = plan;
    this.log = log.child({ mcp_server: plan.config.name });
    this.error = plan.skip;
    this.mask = mask;
  }

  get name(): string {
    return this.plan.config.name;
  }

  /** The stdio child's pid (tests kill it to play a crash). */
  get pid(): number | null {
    return this.opened?.pid() ?? null;
  }

  /** One attempt; on failure the error is kept and a reconnection is scheduled. */
  connect(): Promise<void> {
    if (this.plan.skip || this.closed) return Promise.resolve();
    this.connecting ??= this.attempt().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  /** Connects an OAuth-backed server on behalf of a session (ops-runtime §8.2); throws on failure. */
  async connectScoped(authorize: Authorize): Promise<void> {
    if (this.connected) return;
    this.authorize = authorize;
    this.connecting ??= this.attempt().finally(() => {
      this.connecting = null;
    });
    await this.connecting;
    if (!this.connected)
      throw new McpCallError(`MCP server \`${this.name}\` could not be initialized: ${this.error}`);
  }

  private async attempt(): Promise<void> {
    const c = this.plan.config;
    const opened = await openTransport(this.plan, this.authorize);
    const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
    const client = new Client({ name: 'kheish-daemon', version: DAEMON_VERSION }, { capabilities: {} });
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(`did not finish connecting within ${c.startup_timeout_ms} ms (startup_timeout_sec)`),
            ),
          c.startup_timeout_ms,
        );
      });
      await Promise.race([
        (async () => {
          await client.connect(opened.transport, { timeout: c.startup_timeout_ms });
          this.tools = await listAllTools(client, c.startup_timeout_ms);
        })(),
        timeout,
      ]);
    } catch (err) {
      clearTimeout(timer);
      await client.close().catch(() => undefined);
      const tail = opened.stderrTail();
      this.fail(`${describe(err)}${tail ? ` (server stderr: ${tail})` : ''}`);
      return;
    }
    clearTimeout(timer);
    if (this.closed) {
      await client.close().catch(() => undefined);
      return;
    }
    this.client = client;
    this.opened = opened;
    this.instructions = client.getInstructions();
    this.connected = true;
    this.error = null;
    this.failures = 0;
    client.onclose = () => {
      if (this.client === client) this.lost('the server closed the connection');
    };
    this.log.info({ tools: this.tools.length }, 'MCP server connected');
    this.onTools(this);
  }

  /** A connection that was up went away: fail fast until the reconnection succeeds. */
  lost(why: string): void {
    const client = this.client;
    this.client = null;
    this.opened = null;
    if (client) {
      client.onclose = undefined;
      void client.close().catch(() => undefined);
    }
    this.fail(why);
  }

  private fail(reason: string): void {
    const why = this.mask(reason);
    this.connected = false;
    this.error = why;
    if (this.closed || this.authorize) return;
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.failures);
    this.failures++;
    this.log.warn({ error: why, retry_in_ms: delay }, 'MCP server unavailable; reconnecting');
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.connect();
    }, delay);
    this.timer.unref();
  }

  private live(): Client {
    if (!this.client || !this.connected)
      throw new McpCallError(
        `MCP server \`${this.name}\` is not connected${this.error ? ` (${this.error})` : ''}; it is being reconnected, try again later`,
      );
    return this.client;
  }

  /** tools/call with the server's tool_timeout and the caller's signal (which cancels the request). */
  async callTool(tool: string, args: Record<string, unknown>, signal: AbortSignal): Promise<CallResult> {
    const client = this.live();
    const timeout = this.plan.config.tool_timeout_ms;
    try {
      return (await client.callTool({ name: tool, arguments: args }, undefined, {
        signal,
        timeout,
        maxTotalTimeout: timeout,
      })) as CallResult;
    } catch (err) {
      if (signal.aborted) throw err;
      await this.checkAfterFailure(client, err);
      throw new McpCallError(
        this.mask(`MCP tool \`${tool}\` of server \`${this.name}\` failed: ${describe(err)}`),
      );
    }
  }

  async request<T>(
    fn: (client: Client, opts: { signal: AbortSignal; timeout: number }) => Promise<T>,
    signal: AbortSignal,
  ) {
    const client = this.live();
    try {
      return await fn(client, { signal, timeout: this.plan.config.tool_timeout_ms });
    } catch (err) {
      if (signal.aborted) throw err;
      await this.checkAfterFailure(client, err);
      throw new McpCallError(this.mask(`MCP server \`${this.name}\`: ${describe(err)}`));
    }
  }

  /**
   * After a failed request: an answer from the server (a JSON-RPC error) says nothing about the
   * connection; a timeout or a transport error might mean a hung or dead server, so ping it and
   * restart it when it does not answer.
   */
  private async checkAfterFailure(client: Client, err: unknown): Promise<void> {
    if (this.client !== client) return;
    const { McpError } = await import('@modelcontextprotocol/sdk/types.js');
    if (err instanceof McpError && err.code !== -32001 && err.code !== -32000) return;
    try {
      await client.ping({ timeout: 2000 });
    } catch {
      if (this.client === client) this.lost(`the server stopped answering (${describe(err)})`);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const client = this.client;
    this.client = null;
    this.connected = false;
    if (client) {
      client.onclose = undefined;
      await client.close().catch(() => undefined);
    }
  }
}

async function listAllTools(client: Client, timeout: number): Promise<RemoteTool[]> {
  if (!client.getServerCapabilities()?.tools) return [];
  const out: RemoteTool[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor ? { cursor } : {}, { timeout });
    out.push(...(page.tools as RemoteTool[]));
    cursor = page.nextCursor;
  } while (cursor && out.length < MAX_TOOLS);
  return out.slice(0, MAX_TOOLS);
}

/** An error as one line, without stack or secrets (the SDK's messages carry neither). */
export function describe(err: unknown): string {
  const e = err as { message?: string; code?: unknown; cause?: { code?: string; message?: string } };
  let text = e?.message ?? String(err);
  if (e?.cause?.code) text += ` (${e.cause.code})`;
  else if (e?.cause?.message) text += ` (${e.cause.message})`;
  return text.replace(/\s+/g, ' ').slice(0, 500);
}
