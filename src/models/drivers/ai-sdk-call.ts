// The AI SDK half of every provider driver: one `call()` = one `streamText` step, tools without
// `execute`, no SDK-side retries (the engine owns them). Loaded on a provider route's first model
// call (see ai-sdk.ts), so a daemon that never calls a provider never loads the SDK.
import { type LanguageModelUsage, streamText, type TextStreamPart, type ToolSet } from 'ai';
import { withTraceparent } from '../../telemetry/tracing.ts';
import {
  type GenerationOptions,
  ModelCallError,
  type ModelRequest,
  type ModelResponse,
  type ModelUsage,
  type ToolCall,
} from '../driver.ts';
import type { AiSdkDriverConfig } from './ai-sdk.ts';
import { toModelCallError } from './errors.ts';
import { toModelMessages, toToolSet } from './messages.ts';

// Call warnings (a setting the model ignores, ...) are returned in ModelResponse.warnings for
// the engine to log; left on, the SDK would also print each one through process.emitWarning.
const sdkGlobals = globalThis as { AI_SDK_LOG_WARNINGS?: unknown };
sdkGlobals.AI_SDK_LOG_WARNINGS ??= false;

type StreamOptions = Parameters<typeof streamText>[0];

function toolChoiceOf(choice: GenerationOptions['tool_choice']): StreamOptions['toolChoice'] {
  if (choice === undefined || typeof choice === 'string') return choice;
  return { type: 'tool', toolName: choice.name };
}

function warningText(w: unknown): string {
  const x = w as { type?: string; feature?: string; setting?: string; details?: string; message?: string };
  const what = x.feature ?? x.setting ?? x.type ?? 'warning';
  return [what, x.details ?? x.message].filter(Boolean).join(': ');
}

const estimateTokens = (s: string) => Math.ceil(s.length / 4);

function usageOf(u: LanguageModelUsage | undefined, req: ModelRequest, text: string): ModelUsage {
  if (u?.inputTokens === undefined && u?.outputTokens === undefined) {
    // Some OpenAI-compatible servers never report usage; budgets still need a number.
    const prompt = req.messages.map((m) => m.content).join(' ');
    return { input_tokens: estimateTokens(prompt), output_tokens: estimateTokens(text), estimated: true };
  }
  const usage: ModelUsage = { input_tokens: u.inputTokens ?? 0, output_tokens: u.outputTokens ?? 0 };
  const cached = u.inputTokenDetails?.cacheReadTokens;
  const written = u.inputTokenDetails?.cacheWriteTokens;
  const reasoning = u.outputTokenDetails?.reasoningTokens;
  if (cached !== undefined) usage.cached_input_tokens = cached;
  if (written) usage.cache_write_input_tokens = written;
  if (reasoning) usage.reasoning_tokens = reasoning;
  return usage;
}

type ToolCallPart = Extract<TextStreamPart<ToolSet>, { type: 'tool-call' }>;

function toToolCall(part: ToolCallPart, provider: string): ToolCall {
  const input = part.input;
  const isObject = typeof input === 'object' && input !== null && !Array.isArray(input);
  if ('invalid' in part && part.invalid) {
    const errName = (part.error as { name?: string } | undefined)?.name;
    // An unknown tool name is the engine's business (it answers the model with an error);
    // arguments that are not JSON at all are a broken generation, worth another attempt.
    if (errName !== 'AI_NoSuchToolError' || (!isObject && input !== undefined))
      throw new ModelCallError(
        `${provider}: the model produced unparsable arguments for tool \`${part.toolName}\``,
        { status: null, retryable: true },
      );
  }
  return {
    id: part.toolCallId,
    name: part.toolName,
    arguments: isObject ? (input as Record<string, unknown>) : {},
  };
}

class DeltaConsumerError extends Error {}

export async function callModel(config: AiSdkDriverConfig, req: ModelRequest): Promise<ModelResponse> {
  if (req.signal.aborted) throw req.signal.reason;
  config.validate?.(req);
  const gen = req.generation ?? {};
  const hasTools = req.tools.length > 0;
  let text = '';
  const toolCalls: ToolCall[] = [];
  const warnings: string[] = [];
  let finish: Extract<TextStreamPart<ToolSet>, { type: 'finish' }> | undefined;
  try {
    const model = await config.languageModel(req.model);
    const result = streamText({
      model,
      messages: toModelMessages(req.messages, { systemAnywhere: config.systemAnywhere ?? false }),
      allowSystemInMessages: true,
      tools: hasTools ? toToolSet(req.tools) : undefined,
      toolChoice: hasTools ? toolChoiceOf(gen.tool_choice) : undefined,
      temperature: gen.temperature,
      maxOutputTokens: gen.max_output_tokens,
      reasoning: config.nativeReasoning === false ? undefined : gen.reasoning_effort,
      providerOptions: config.providerOptions?.(gen),
      maxRetries: 0,
      abortSignal: req.signal,
      // W3C trace context of the model call span, while OpenTelemetry tracing is on.
      headers: withTraceparent(),
      // The default handler prints to stderr; errors come back through the stream instead.
      onError: () => {},
    });
    for await (const part of result.fullStream) {
      switch (part.type) {
        case 'start-step':
          for (const w of part.warnings) warnings.push(warningText(w));
          break;
        case 'text-delta':
          if (!part.text) break;
          text += part.text;
          try {
            req.onTextDelta(part.text);
          } catch (err) {
            throw new DeltaConsumerError('onTextDelta failed', { cause: err });
          }
          break;
        case 'tool-call':
          if (!part.providerExecuted) toolCalls.push(toToolCall(part, config.name));
          break;
        case 'finish':
          finish = part;
          break;
        case 'error':
          throw part.error;
        case 'abort':
          throw req.signal.reason ?? new Error('aborted');
      }
    }
  } catch (err) {
    if (req.signal.aborted) throw req.signal.reason;
    if (err instanceof DeltaConsumerError) throw err.cause;
    throw toModelCallError(err, config.name);
  }
  if (req.signal.aborted) throw req.signal.reason;
  const reason = finish?.finishReason;
  // `other` without any raw reason means no finish event ever arrived (xAI, OpenRouter report
  // a clean end of an unfinished stream that way); a real finish always carries its raw reason.
  const unfinished = reason === 'other' && finish?.rawFinishReason === undefined;
  if (reason === undefined || reason === 'interrupted' || reason === 'error' || unfinished)
    // The connection ended cleanly but the provider never said the answer was complete.
    throw new ModelCallError(`${config.name}: the response stream ended before the model finished`, {
      status: null,
      retryable: true,
    });
  const response: ModelResponse = {
    text,
    tool_calls: toolCalls,
    usage: usageOf(finish?.totalUsage, req, text),
    stop_reason: toolCalls.length > 0 ? 'tool_use' : reason === 'length' ? 'max_tokens' : 'end_turn',
  };
  if (finish?.rawFinishReason) response.provider_stop_reason = finish.rawFinishReason;
  if (warnings.length > 0) response.warnings = warnings;
  return response;
}
