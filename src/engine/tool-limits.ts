// Enforcing ToolRuntimeLimits on one tool batch (api-core §5.6). The batch works on one snapshot of
// the limits, so a change made while it runs applies to the next batch. Every breach becomes an
// error result the model can read; nothing here fails the run.
import type { ToolCall } from '../models/driver.ts';
import type { ToolContext, ToolRegistry, ToolResult } from '../tools/registry.ts';
import type { ToolRuntimeLimitsRecord } from '../tools/runtime-limits.ts';

const MUTATING_FILE_TOOLS = new Set(['write_file', 'edit_file', 'apply_patch']);

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

export class BatchLimits {
  readonly limits: ToolRuntimeLimitsRecord;
  /** Result bytes this run has produced so far (journaled results plus this batch's). */
  private used: number;

  /** `usedBytes`: the run's journaled tool-result bytes so far (RunState keeps the sum). */
  constructor(limits: ToolRuntimeLimitsRecord, usedBytes: number) {
    this.limits = limits;
    this.used = usedBytes;
  }

  /** A refusal for a call before it runs (position in the turn, argument size, sandbox cap), or null. */
  refuse(call: ToolCall, indexInTurn: number): ToolResult | null {
    const l = this.limits;
    if (indexInTurn >= l.max_calls_per_turn)
      return error(
        `refused: this turn asked for more than max_calls_per_turn (${l.max_calls_per_turn}) tool calls; make fewer calls per turn`,
      );
    const size = bytes(JSON.stringify(call.arguments ?? {}));
    if (size > l.max_input_bytes)
      return error(`refused: the arguments are ${size} bytes, over max_input_bytes (${l.max_input_bytes})`);
    if (l.max_sandbox === 'read_only' && MUTATING_FILE_TOOLS.has(call.name))
      return error(
        `refused: the daemon's tool limits cap the sandbox at read_only; \`${call.name}\` writes files`,
      );
    return null;
  }

  /** Runs one call under the timeout cap, then bounds its result (per call and per run). */
  async execute(registry: ToolRegistry, call: ToolCall, ctx: ToolContext): Promise<ToolResult> {
    if (registry.get(call.name)?.waits_for_answer) return this.bound(await registry.execute(call, ctx));
    const timeoutMs = this.limits.max_timeout_ms;
    const timer = new AbortController();
    const signal = AbortSignal.any([ctx.signal, timer.signal]);
    let handle: NodeJS.Timeout | undefined;
    const timedOut = new Promise<ToolResult>((resolve) => {
      handle = setTimeout(() => {
        timer.abort(new Error('tool timeout'));
        resolve(error(`the call did not finish within max_timeout_ms (${timeoutMs} ms) and was stopped`));
      }, timeoutMs);
    });
    try {
      const result = await Promise.race([registry.execute(call, { ...ctx, signal }), timedOut]);
      return this.bound(result);
    } catch (err) {
      if (timer.signal.aborted && !ctx.signal.aborted)
        return error(`the call did not finish within max_timeout_ms (${timeoutMs} ms) and was stopped`);
      throw err;
    } finally {
      clearTimeout(handle);
    }
  }

  private bound(result: ToolResult): ToolResult {
    const l = this.limits;
    const cap = Math.min(l.max_output_bytes, l.max_result_envelope_bytes);
    let content = result.content;
    const size = bytes(content);
    if (size > cap) {
      content = `${Buffer.from(content, 'utf8').subarray(0, cap).toString('utf8')}\n[truncated: the result was ${size} bytes, over the ${cap}-byte tool output limit]`;
    }
    const total = this.used + bytes(content);
    if (total > Math.min(l.max_cumulative_output_bytes, l.max_cumulative_result_envelope_bytes))
      return error(
        `the run's cumulative tool output limit (${Math.min(l.max_cumulative_output_bytes, l.max_cumulative_result_envelope_bytes)} bytes) is used up; this result was dropped`,
      );
    this.used = total;
    return { ...result, content };
  }
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping the input order in the output. */
export async function mapWithLimit<T, R>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

function error(content: string): ToolResult {
  return { content, is_error: true };
}
