// The one interface every model driver implements. The engine owns the loop: a driver call is
// exactly one model step (one request, streamed), never a tool execution.

export interface ToolCall {
  id: string;
  name: string;
  arguments: Record<string, unknown>;
}

/**
 * One piece of a user message with files (api-core §3.6 input items, in the caller's order). The
 * journal form names assets only (`asset`); just before a model call the engine's asset renderer
 * turns each into what the route can take: an image or file part carrying the bytes (base64), or
 * text (a document's derived text, a notice). Drivers encode the resolved kinds per provider.
 */
export type UserPart =
  | { type: 'text'; text: string }
  | { type: 'asset'; asset_id: string }
  | { type: 'image'; asset_id: string; file_name: string; media_type: string; data_base64: string }
  | { type: 'file'; asset_id: string; file_name: string; media_type: string; data_base64: string };

export type ChatMessage =
  | { role: 'system'; content: string }
  /** `content` is the text alone (scripted matching, estimates); `parts`, when present, is the whole input. */
  | { role: 'user'; content: string; parts?: UserPart[] }
  | { role: 'assistant'; content: string; tool_calls?: ToolCall[] }
  | { role: 'tool'; tool_call_id: string; name: string; content: string; is_error?: boolean };

/** Per-call generation settings: session route policy merged with the run's overrides. */
export interface GenerationOptions {
  temperature?: number;
  max_output_tokens?: number;
  reasoning_effort?: 'none' | 'minimal' | 'low' | 'medium' | 'high' | 'xhigh';
  tool_choice?: 'auto' | 'none' | 'required' | { type: 'specific'; name: string };
  allow_parallel_tool_calls?: boolean;
}

export interface ModelRequest {
  run_id: string;
  model: string;
  messages: ChatMessage[];
  /** Text of the run's own input: scripted rules match against it. */
  input_text: string;
  /** Model calls this run has already made (successful or failed): the scripted position. */
  call_index: number;
  tools: Array<{ name: string; description: string; input_schema: Record<string, unknown> }>;
  signal: AbortSignal;
  onTextDelta: (delta: string) => void;
  generation?: GenerationOptions;
  /** Why the engine calls: a normal turn, a tool-free contract repair, or context compaction. */
  purpose?: 'turn' | 'repair' | 'compaction';
}

export interface ModelUsage {
  /** All prompt tokens, cached ones included. */
  input_tokens: number;
  output_tokens: number;
  /** The part of input_tokens read from the provider's prompt cache. */
  cached_input_tokens?: number;
  /** Prompt tokens written to the provider's cache (Anthropic bills them at a premium). */
  cache_write_input_tokens?: number;
  /** The part of output_tokens spent on hidden reasoning. */
  reasoning_tokens?: number;
  /** True when the provider reported no usage and the driver estimated it from text length. */
  estimated?: boolean;
}

export interface ModelResponse {
  text: string;
  tool_calls: ToolCall[];
  usage: ModelUsage;
  stop_reason: 'end_turn' | 'tool_use' | 'max_tokens';
  /** The provider's own finish reason (`stop`, `end_turn`, `STOP`, ...), for diagnostics. */
  provider_stop_reason?: string;
  /** Settings the provider ignored or rejected softly (e.g. temperature on a reasoning model). */
  warnings?: string[];
}

/** A provider failure, classified so the engine can decide to retry. */
export class ModelCallError extends Error {
  readonly status: number | null;
  readonly retryable: boolean;
  readonly retryAfterMs: number | null;
  constructor(
    message: string,
    opts: { status: number | null; retryable: boolean; retryAfterMs?: number | null },
  ) {
    super(message);
    this.name = 'ModelCallError';
    this.status = opts.status;
    this.retryable = opts.retryable;
    this.retryAfterMs = opts.retryAfterMs ?? null;
  }
}

export interface ModelDriver {
  readonly name: string;
  call(req: ModelRequest): Promise<ModelResponse>;
}
