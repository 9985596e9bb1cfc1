// The scripted driver (ARCHITECTURE.md §6): plays a JSON script instead of calling a model.
// The position in the script is the run's model-call count, read from its journal by the engine,
// so a run resumed after a restart continues where it stopped.
import { readFileSync } from 'node:fs';
import {
  ModelCallError,
  type ModelDriver,
  type ModelRequest,
  type ModelResponse,
  type ToolCall,
} from '../driver.ts';

export interface ScriptTurn {
  text?: string;
  tool_calls?: Array<{ id?: string; name: string; arguments?: Record<string, unknown> }>;
  delay_ms?: number;
  /** Pause between two text deltas: a slow stream (demos, restart-in-the-middle tests). */
  delta_delay_ms?: number;
  usage?: { input_tokens?: number; output_tokens?: number };
  error?: { status?: number; retry_after_ms?: number; message?: string };
  hang?: boolean;
}

interface ScriptRule {
  match: string;
  turns: ScriptTurn[];
}

export interface Script {
  rules?: ScriptRule[];
  default?: { turns: ScriptTurn[] };
}

export class ScriptError extends Error {}

export function loadScript(path: string): Script {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ScriptError(`cannot load script ${path}: ${(err as Error).message}`);
  }
  const script = doc as Script;
  if (typeof script !== 'object' || script === null)
    throw new ScriptError(`script ${path} must be a JSON object`);
  for (const [i, rule] of (script.rules ?? []).entries()) {
    if (typeof rule.match !== 'string' || !Array.isArray(rule.turns))
      throw new ScriptError(`script ${path}: rules[${i}] needs a string "match" and a "turns" array`);
    try {
      new RegExp(rule.match);
    } catch (err) {
      throw new ScriptError(
        `script ${path}: rules[${i}].match is not a valid regular expression: ${(err as Error).message}`,
      );
    }
  }
  return script;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });

/** Splits text into a few deltas so streaming is visible even for short answers. */
export function chunkText(text: string, pieces = 4): string[] {
  if (text.length <= 1) return text ? [text] : [];
  const size = Math.max(1, Math.ceil(text.length / pieces));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

export class ScriptedDriver implements ModelDriver {
  readonly name = 'scripted';
  private readonly script: Script | null;

  /** `script` null = echo driver (the built-in demo route). */
  constructor(script: Script | null) {
    this.script = script;
  }

  private turnsFor(input: string): ScriptTurn[] | null {
    if (!this.script) return null;
    for (const rule of this.script.rules ?? []) if (new RegExp(rule.match).test(input)) return rule.turns;
    return this.script.default?.turns ?? null;
  }

  async call(req: ModelRequest): Promise<ModelResponse> {
    // Compaction requests are answered deterministically and do not consume a scripted turn.
    if (req.purpose === 'compaction') return summarize(req);
    const turns = this.turnsFor(req.input_text);
    const turn: ScriptTurn =
      turns === null
        ? { text: req.call_index === 0 ? req.input_text : '(script exhausted)' }
        : (turns[req.call_index] ?? { text: '(script exhausted)' });
    if (turn.delay_ms) await sleep(turn.delay_ms, req.signal);
    if (turn.hang) await sleep(2 ** 31 - 1, req.signal);
    if (turn.error) {
      const status = turn.error.status ?? 500;
      throw new ModelCallError(turn.error.message ?? `scripted provider error ${status}`, {
        status,
        retryable: status === 429 || status >= 500,
        retryAfterMs: turn.error.retry_after_ms ?? null,
      });
    }
    const text = turn.text ?? '';
    for (const [i, delta] of chunkText(text).entries()) {
      if (i > 0 && turn.delta_delay_ms) await sleep(turn.delta_delay_ms, req.signal);
      if (req.signal.aborted) throw req.signal.reason;
      req.onTextDelta(delta);
    }
    const tool_calls: ToolCall[] = (turn.tool_calls ?? []).map((c, i) => ({
      id: c.id ?? `call-${req.call_index + 1}-${i + 1}`,
      name: c.name,
      arguments: c.arguments ?? {},
    }));
    return {
      text,
      tool_calls,
      usage: {
        input_tokens:
          turn.usage?.input_tokens ?? estimateTokens(req.messages.map((m) => m.content).join(' ')),
        output_tokens: turn.usage?.output_tokens ?? estimateTokens(text),
      },
      stop_reason: tool_calls.length > 0 ? 'tool_use' : 'end_turn',
    };
  }
}

const estimateTokens = (s: string) => Math.ceil(s.length / 4);

const SUMMARY_LINE_CHARS = 80;

function summarize(req: ModelRequest): ModelResponse {
  const lines = req.messages
    .slice(0, -1)
    .map((m) => `${m.role}: ${m.content.replace(/\s+/g, ' ').slice(0, SUMMARY_LINE_CHARS)}`);
  const text = `(scripted summary of ${lines.length} messages)\n${lines.join('\n')}`;
  return {
    text,
    tool_calls: [],
    usage: { input_tokens: 0, output_tokens: estimateTokens(text) },
    stop_reason: 'end_turn',
  };
}
