// Tool registry: the tool surface a run can call. Built-in tools register here (later issues);
// tests may register their own. The engine asks the registry; it never imports tools directly.
import type { ToolCall } from '../models/driver.ts';

export interface ToolResult {
  content: string;
  is_error: boolean;
}

export interface ToolContext {
  run_id: string;
  session_id: string;
  /** The agent the calling session belongs to (control tools act on its behalf). */
  agent_id: string;
  /** The model's id for this call (stable across a restart of the run). */
  tool_call_id: string;
  workspace_root: string | null;
  signal: AbortSignal;
  /**
   * What the engine grants this call beyond the defaults: network for sandboxed commands (an
   * explicit `bash:network` allow rule) and whether the workspace may be written (max_sandbox).
   */
  sandbox?: { network: boolean; workspace_writable: boolean };
}

export interface ToolDefinition {
  name: string;
  description: string;
  input_schema: Record<string, unknown>;
  /** True when running it twice could change the world twice (never re-run blindly). */
  side_effects: boolean;
  /**
   * It only reads (files, the web): running it again, even under another call id after a crash,
   * changes nothing and waits for no one. A batch of such calls commits with the assistant turn
   * that asked for them, in one transaction; any other call waits for that turn to be durable.
   */
  read_only?: boolean;
  /**
   * The call waits for a person or another agent (a parent's answer), not for work: it is not
   * stopped at ToolRuntimeLimits.max_timeout_ms, only by cancellation or its own expiry.
   */
  waits_for_answer?: boolean;
  /**
   * The external-action audit kind of a tool whose calls leave the daemon even when they only
   * read (MCP): such calls are signed into the ledger and refused while the audit is closed.
   * Side-effecting calls are audited anyway (kind `tool` unless this names another).
   */
  audit_kind?: string;
  execute(args: Record<string, unknown>, ctx: ToolContext): Promise<ToolResult>;
}

export class ToolRegistry {
  private readonly tools = new Map<string, ToolDefinition>();

  register(tool: ToolDefinition): void {
    this.tools.set(tool.name, tool);
  }

  /** Drops a tool (an MCP server removed on a running daemon); false when it was not there. */
  unregister(name: string): boolean {
    return this.tools.delete(name);
  }

  get(name: string): ToolDefinition | undefined {
    return this.tools.get(name);
  }

  list(): ToolDefinition[] {
    return [...this.tools.values()];
  }

  /** Runs one call; an unknown tool or a thrown error becomes an error result the model can read. */
  async execute(call: ToolCall, ctx: ToolContext): Promise<ToolResult> {
    const tool = this.tools.get(call.name);
    if (!tool) {
      const known = [...this.tools.keys()];
      return {
        content: `unknown tool \`${call.name}\`${known.length ? `; available: ${known.join(', ')}` : '; no tools are available'}`,
        is_error: true,
      };
    }
    try {
      return await tool.execute(call.arguments, ctx);
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      return { content: `tool ${call.name} failed: ${(err as Error).message}`, is_error: true };
    }
  }
}
