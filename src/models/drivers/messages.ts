// Our conversation and tool declarations, translated into the AI SDK's provider-neutral prompt.
import { jsonSchema, type ModelMessage, type ToolSet } from 'ai';
import type { ChatMessage, ModelRequest, UserPart } from '../driver.ts';

export interface PromptOptions {
  /**
   * Whether the provider accepts system messages after the conversation has started. Google
   * rejects them, Anthropic only has one system slot; for those a later system message becomes
   * a user message marked as coming from the system, instead of failing the call.
   */
  systemAnywhere: boolean;
}

type ToolResultContent = Extract<ModelMessage, { role: 'tool' }>['content'];

export function toModelMessages(messages: ChatMessage[], opts: PromptOptions): ModelMessage[] {
  const out: ModelMessage[] = [];
  let started = false;
  for (const m of messages) {
    switch (m.role) {
      case 'system':
        if (!started || opts.systemAnywhere) out.push({ role: 'system', content: m.content });
        else out.push({ role: 'user', content: `[system notice]\n${m.content}` });
        break;
      case 'user':
        started = true;
        out.push({ role: 'user', content: m.parts ? userContent(m.parts) : m.content });
        break;
      case 'assistant': {
        started = true;
        const parts: Extract<ModelMessage, { role: 'assistant' }>['content'] = [];
        // Anthropic rejects empty text blocks; an empty assistant text carries nothing anyway.
        if (m.content) parts.push({ type: 'text', text: m.content });
        for (const c of m.tool_calls ?? [])
          parts.push({ type: 'tool-call', toolCallId: c.id, toolName: c.name, input: c.arguments });
        if (parts.length > 0) out.push({ role: 'assistant', content: parts });
        break;
      }
      case 'tool': {
        started = true;
        const part: ToolResultContent[number] = {
          type: 'tool-result',
          toolCallId: m.tool_call_id,
          toolName: m.name,
          output: m.is_error ? { type: 'error-text', value: m.content } : { type: 'text', value: m.content },
        };
        // Results of one assistant turn travel together (Anthropic wants them in one message).
        const last = out.at(-1);
        if (last?.role === 'tool') last.content.push(part);
        else out.push({ role: 'tool', content: [part] });
        break;
      }
    }
  }
  return out;
}

type UserContent = Exclude<Extract<ModelMessage, { role: 'user' }>['content'], string>;

/** Parts in the caller's order; adjacent text merges so providers see one block per run of text. */
function userContent(parts: UserPart[]): UserContent {
  const out: UserContent = [];
  const text = (t: string) => {
    const last = out.at(-1);
    if (last?.type === 'text') last.text = `${last.text}\n${t}`;
    else out.push({ type: 'text', text: t });
  };
  for (const p of parts) {
    switch (p.type) {
      case 'text':
        if (p.text !== '') text(p.text);
        break;
      case 'image':
        out.push({ type: 'image', image: p.data_base64, mediaType: p.media_type });
        break;
      case 'file':
        out.push({ type: 'file', data: p.data_base64, mediaType: p.media_type, filename: p.file_name });
        break;
      case 'asset':
        // Not rendered (no asset renderer installed): say so rather than drop it silently.
        text(`[asset ${p.asset_id}: not available to this model call]`);
        break;
    }
  }
  if (out.length === 0) out.push({ type: 'text', text: '' });
  return out;
}

/**
 * Tools are declared with their JSON schema and WITHOUT `execute`: the SDK then stops after the
 * model's step and hands the calls back, so the engine decides about permissions and execution.
 */
export function toToolSet(tools: ModelRequest['tools']): ToolSet {
  const set: ToolSet = {};
  for (const t of tools) {
    // OpenAI and Gemini require an object schema at the top; MCP servers sometimes omit `type`.
    const schema = { type: 'object', properties: {}, ...t.input_schema } as Parameters<typeof jsonSchema>[0];
    set[t.name] = { description: t.description, inputSchema: jsonSchema(schema) };
  }
  return set;
}
