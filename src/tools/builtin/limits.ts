// Limits for the built-in file tools. The daemon-wide `ToolRuntimeLimits` (ops-runtime §10) bound
// every call; on top of them the file tools keep smaller working sizes so that one call cannot
// flood a model's context or hold the daemon for minutes.

import { DEFAULT_TOOL_RUNTIME_LIMITS } from '../runtime-limits.ts';

/** The spec's ToolRuntimeLimits object; every key optional so a partial or live object can be passed. */
export interface ToolRuntimeLimits {
  max_input_bytes?: number;
  max_output_bytes?: number;
  max_result_envelope_bytes?: number;
  max_timeout_ms?: number;
  max_parallel_tools?: number;
  max_calls_per_turn?: number;
  max_cumulative_output_bytes?: number;
  max_cumulative_result_envelope_bytes?: number;
  max_sandbox?: string;
}

/** Working sizes of the file tools (not part of the wire contract). */
export interface FileToolOptions {
  /** Bytes of file content one read_file call returns. */
  max_read_bytes: number;
  /** Largest file edit_file / apply_patch will load and rewrite. */
  max_edit_bytes: number;
  /** Result count of list/glob/grep when the caller gives no `limit`. */
  default_results: number;
  /** Highest `limit` a caller may ask for. */
  max_results: number;
  /** grep_search skips files larger than this. */
  max_search_file_bytes: number;
  /** grep_search shortens matched lines to this many characters. */
  max_line_chars: number;
}

export interface EffectiveLimits extends FileToolOptions {
  max_input_bytes: number;
  max_output_bytes: number;
  max_timeout_ms: number;
}

/** A fixed limits object, or a getter so live runtime changes apply to the next call. */
export type LimitsSource = ToolRuntimeLimits | (() => ToolRuntimeLimits | undefined) | undefined;

const MiB = 1024 * 1024;

// One default per limit: without a limits object the file tools use the daemon-wide defaults
// (the daemon always passes its live ToolRuntimeLimits). What keeps one answer small is
// `max_read_bytes` and the result counts below, not a second output cap.
export const DEFAULT_RUNTIME_LIMITS = {
  max_input_bytes: DEFAULT_TOOL_RUNTIME_LIMITS.max_input_bytes,
  max_output_bytes: DEFAULT_TOOL_RUNTIME_LIMITS.max_output_bytes,
  max_timeout_ms: DEFAULT_TOOL_RUNTIME_LIMITS.max_timeout_ms,
} as const;

export const DEFAULT_FILE_TOOL_OPTIONS: FileToolOptions = {
  max_read_bytes: 256 * 1024,
  max_edit_bytes: 4 * MiB,
  default_results: 200,
  max_results: 2000,
  max_search_file_bytes: 8 * MiB,
  max_line_chars: 500,
};

function positive(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : fallback;
}

export function effectiveLimits(source: LimitsSource, options?: Partial<FileToolOptions>): EffectiveLimits {
  const raw = (typeof source === 'function' ? source() : source) ?? {};
  const o = { ...DEFAULT_FILE_TOOL_OPTIONS, ...options };
  const maxOutput = positive(raw.max_output_bytes, DEFAULT_RUNTIME_LIMITS.max_output_bytes);
  return {
    max_input_bytes: positive(raw.max_input_bytes, DEFAULT_RUNTIME_LIMITS.max_input_bytes),
    max_output_bytes: maxOutput,
    max_timeout_ms: positive(raw.max_timeout_ms, DEFAULT_RUNTIME_LIMITS.max_timeout_ms),
    // Content must fit inside the output cap together with the JSON around it.
    max_read_bytes: Math.max(1, Math.min(positive(o.max_read_bytes, 1), Math.floor(maxOutput / 2))),
    max_edit_bytes: positive(o.max_edit_bytes, DEFAULT_FILE_TOOL_OPTIONS.max_edit_bytes),
    default_results: positive(o.default_results, DEFAULT_FILE_TOOL_OPTIONS.default_results),
    max_results: positive(o.max_results, DEFAULT_FILE_TOOL_OPTIONS.max_results),
    max_search_file_bytes: positive(o.max_search_file_bytes, DEFAULT_FILE_TOOL_OPTIONS.max_search_file_bytes),
    max_line_chars: positive(o.max_line_chars, DEFAULT_FILE_TOOL_OPTIONS.max_line_chars),
  };
}
