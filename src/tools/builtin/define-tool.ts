// Wraps a file tool body into a ToolDefinition: fresh limits per call (live changes apply to the
// next call), the workspace root check, the input and output caps, the call's timeout, and the
// translation of every failure into an error result the model can act on.
import type { ToolContext, ToolDefinition, ToolResult } from '../registry.ts';
import { ToolFailure } from './failure.ts';
import { type EffectiveLimits, effectiveLimits, type FileToolOptions, type LimitsSource } from './limits.ts';
import { openWorkspace, type WorkspaceRoot } from './workspace-path.ts';

export interface FileToolEnv {
  ctx: ToolContext;
  root: WorkspaceRoot;
  limits: EffectiveLimits;
  /** The run's signal combined with this call's timeout. */
  signal: AbortSignal;
  timeoutMs: number;
}

export interface FileToolSpec {
  name: string;
  description: string;
  input_schema: Record<string, unknown>;
  side_effects: boolean;
  /** The tool's own time budget; `max_timeout_ms` may only lower it. */
  timeout_ms: number;
  run(args: Record<string, unknown>, env: FileToolEnv): Promise<Record<string, unknown>>;
}

export interface FileToolConfig {
  limits?: LimitsSource;
  options?: Partial<FileToolOptions>;
}

function errorResult(name: string, message: string): ToolResult {
  return { content: `${name}: ${message}`, is_error: true };
}

export function defineFileTool(spec: FileToolSpec, config: FileToolConfig = {}): ToolDefinition {
  return {
    name: spec.name,
    description: spec.description,
    input_schema: spec.input_schema,
    side_effects: spec.side_effects,
    read_only: !spec.side_effects,
    async execute(rawArgs, ctx) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      const limits = effectiveLimits(config.limits, config.options);
      const timeoutMs = Math.min(spec.timeout_ms, limits.max_timeout_ms);
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = AbortSignal.any([ctx.signal, timeout]);
      const args = rawArgs && typeof rawArgs === 'object' && !Array.isArray(rawArgs) ? rawArgs : {};
      try {
        const inputBytes = Buffer.byteLength(JSON.stringify(args));
        if (inputBytes > limits.max_input_bytes) {
          return errorResult(
            spec.name,
            `the arguments are ${inputBytes} bytes, over max_input_bytes (${limits.max_input_bytes}); split the change into smaller calls`,
          );
        }
        const root = await openWorkspace(ctx.workspace_root);
        const out = await spec.run(args, { ctx, root, limits, signal, timeoutMs });
        const content = JSON.stringify(out);
        const outputBytes = Buffer.byteLength(content);
        if (outputBytes > limits.max_output_bytes) {
          return errorResult(
            spec.name,
            `the result is ${outputBytes} bytes, over max_output_bytes (${limits.max_output_bytes}); ask for less (a smaller line_count or limit, or a narrower base)`,
          );
        }
        return { content, is_error: false };
      } catch (err) {
        if (ctx.signal.aborted) throw ctx.signal.reason ?? err;
        if (err instanceof ToolFailure) return errorResult(spec.name, err.message);
        if (timeout.aborted) {
          const after = spec.side_effects ? ' Nothing was changed.' : '';
          return errorResult(spec.name, `timed out after ${timeoutMs} ms.${after} Try a smaller request.`);
        }
        return errorResult(spec.name, `failed unexpectedly: ${(err as Error)?.message ?? String(err)}`);
      }
    },
  };
}
