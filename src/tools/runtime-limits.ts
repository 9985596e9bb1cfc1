// ToolRuntimeLimits (api-core §5.6, ops-runtime §10): the daemon-wide caps every tool batch runs
// under. Replaced as a whole through POST /v1/runtime/tool-limits; a batch reads one snapshot when it
// starts, so a change applies to the next batch, never half-way through one.

/** How much a tool may reach, weakest first: the cap `max_sandbox` puts on every tool. */
export const SANDBOX_LEVELS = ['read_only', 'workspace_write', 'network_enabled'] as const;
export type SandboxLevel = (typeof SANDBOX_LEVELS)[number];

export interface ToolRuntimeLimitsRecord {
  max_input_bytes: number;
  max_output_bytes: number;
  max_result_envelope_bytes: number;
  max_timeout_ms: number;
  max_parallel_tools: number;
  max_calls_per_turn: number;
  max_cumulative_output_bytes: number;
  max_cumulative_result_envelope_bytes: number;
  max_sandbox: SandboxLevel;
}

const MiB = 1024 * 1024;

/** The reference daemon's defaults (ops-runtime §10). */
export const DEFAULT_TOOL_RUNTIME_LIMITS: Readonly<ToolRuntimeLimitsRecord> = Object.freeze({
  max_input_bytes: 16 * MiB,
  max_output_bytes: 16 * MiB,
  max_result_envelope_bytes: 24 * MiB,
  max_timeout_ms: 180_000,
  max_parallel_tools: 16,
  max_calls_per_turn: 256,
  max_cumulative_output_bytes: 64 * MiB,
  max_cumulative_result_envelope_bytes: 96 * MiB,
  max_sandbox: 'network_enabled',
});

const NUMERIC_KEYS = Object.keys(DEFAULT_TOOL_RUNTIME_LIMITS).filter((k) => k !== 'max_sandbox') as Array<
  Exclude<keyof ToolRuntimeLimitsRecord, 'max_sandbox'>
>;

/**
 * Validates a replacement object. Omitted keys take the defaults (the object is still replaced as a
 * whole: nothing of the previous revision survives). Returns the record, or the list of problems.
 */
export function parseToolRuntimeLimits(
  raw: unknown,
): { ok: true; limits: ToolRuntimeLimitsRecord } | { ok: false; problems: string[] } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    return { ok: false, problems: ['`limits` must be an object'] };
  const input = raw as Record<string, unknown>;
  const problems: string[] = [];
  const out: ToolRuntimeLimitsRecord = { ...DEFAULT_TOOL_RUNTIME_LIMITS };
  for (const key of Object.keys(input)) {
    if (!(key in DEFAULT_TOOL_RUNTIME_LIMITS)) problems.push(`unknown limit \`${key}\``);
  }
  for (const key of NUMERIC_KEYS) {
    const value = input[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0)
      problems.push(`\`${key}\` must be an integer greater than 0 (got ${JSON.stringify(value)})`);
    else out[key] = value;
  }
  if (input.max_sandbox !== undefined) {
    if (!SANDBOX_LEVELS.includes(input.max_sandbox as SandboxLevel))
      problems.push(`\`max_sandbox\` must be one of ${SANDBOX_LEVELS.join(', ')}`);
    else out.max_sandbox = input.max_sandbox as SandboxLevel;
  }
  if (out.max_output_bytes > out.max_result_envelope_bytes)
    problems.push('`max_output_bytes` cannot exceed `max_result_envelope_bytes`');
  if (out.max_cumulative_output_bytes > out.max_cumulative_result_envelope_bytes)
    problems.push('`max_cumulative_output_bytes` cannot exceed `max_cumulative_result_envelope_bytes`');
  return problems.length > 0 ? { ok: false, problems } : { ok: true, limits: out };
}

/** The live limits: tools read them at each call, the engine snapshots them per batch. */
export class LiveToolLimits {
  current: ToolRuntimeLimitsRecord = { ...DEFAULT_TOOL_RUNTIME_LIMITS };
  readonly get = (): ToolRuntimeLimitsRecord => this.current;
}
