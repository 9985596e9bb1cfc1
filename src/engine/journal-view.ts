// Pure readings of the journal: where a run stands (its position) and the conversation the
// model sees. Everything the loop decides after a restart is derived from these.
import type { ChatMessage, ToolCall } from '../models/driver.ts';
import type { JournalEntry } from '../store/repos/journal.ts';
import { inputParts } from './input-assets.ts';
import type { StoredRunRequest } from './types.ts';

export interface RunPosition {
  /** Model calls made so far (successful or failed). */
  calls: number;
  /** Calls made on the current route since the last fallback: the scripted driver's position. */
  routeCalls: number;
  /** Calls that were tool-free contract repairs (not counted as turns). */
  repairCalls: number;
  consecutiveFailures: number;
  /** The route currently in use: the pinned one or the last fallback switched to. */
  route: { route_id: string; model: string } | null;
  pendingToolCalls: ToolCall[];
  /** The last entry is a final answer (assistant message without tool calls). */
  finished: boolean;
  finalText: string;
  /** The next call must be a tool-free repair turn. */
  repairDue: boolean;
  repairs: number;
  followups: number;
}

export function emptyPosition(): RunPosition {
  return {
    calls: 0,
    routeCalls: 0,
    repairCalls: 0,
    consecutiveFailures: 0,
    route: null,
    pendingToolCalls: [],
    finished: false,
    finalText: '',
    repairDue: false,
    repairs: 0,
    followups: 0,
  };
}

/** Where a run stands after all of `entries`: a fold of `advance`. */
export function positionOf(entries: JournalEntry[]): RunPosition {
  const pos = emptyPosition();
  for (const e of entries) advance(pos, e);
  return pos;
}

/** Moves the position past one journal entry of the run (the executor's incremental form). */
export function advance(pos: RunPosition, e: JournalEntry): void {
  switch (e.kind) {
    case 'assistant_message':
      pos.calls++;
      pos.routeCalls++;
      if (e.payload.purpose === 'repair') pos.repairCalls++;
      pos.consecutiveFailures = 0;
      pos.pendingToolCalls = (e.payload.tool_calls as ToolCall[]) ?? [];
      pos.finished = pos.pendingToolCalls.length === 0;
      pos.finalText = String(e.payload.text ?? '');
      pos.repairDue = false;
      break;
    case 'model_call_failed':
      pos.calls++;
      pos.routeCalls++;
      pos.consecutiveFailures++;
      break;
    case 'route_switched':
      pos.route = { route_id: String(e.payload.route_id), model: String(e.payload.model) };
      pos.consecutiveFailures = 0;
      pos.routeCalls = 0;
      break;
    case 'tool_result':
      pos.pendingToolCalls = pos.pendingToolCalls.filter((c) => c.id !== e.payload.tool_call_id);
      break;
    case 'contract_repair':
      pos.repairs++;
      pos.finished = false;
      pos.repairDue = true;
      break;
    case 'completion_followup':
      pos.followups++;
      pos.finished = false;
      break;
  }
}

/** Messages for the next model call: the latest compaction summary, then everything after it. */
export function conversation(entries: readonly JournalEntry[]): ChatMessage[] {
  const boundary = latestBoundary(entries);
  const out: ChatMessage[] = [];
  if (boundary)
    out.push({ role: 'user', content: `Summary of the earlier conversation:\n${boundary.summary}` });
  for (const e of entries) {
    if (boundary && e.seq <= boundary.upto_seq) continue;
    const m = toMessage(e);
    if (m) out.push(m);
  }
  return out;
}

export function toMessage(e: JournalEntry): ChatMessage | null {
  switch (e.kind) {
    case 'input_received': {
      const content = String(e.payload.text ?? '');
      // Files stay asset ids here; the engine renders them for the route at each model call.
      const parts = e.payload.request ? inputParts(e.payload.request as StoredRunRequest) : null;
      return parts ? { role: 'user', content, parts } : { role: 'user', content };
    }
    case 'contract_repair':
    case 'completion_followup':
      return { role: 'user', content: String(e.payload.text ?? '') };
    case 'assistant_message':
      return {
        role: 'assistant',
        content: String(e.payload.text ?? ''),
        tool_calls: (e.payload.tool_calls as ToolCall[]) ?? [],
      };
    case 'tool_result':
      return {
        role: 'tool',
        tool_call_id: String(e.payload.tool_call_id),
        name: String(e.payload.name),
        content: String(e.payload.content),
        is_error: Boolean(e.payload.is_error),
      };
    default:
      return null;
  }
}

/** The newest compaction summary and the last journal seq it covers. */
export function latestBoundary(
  entries: readonly JournalEntry[],
): { summary: string; upto_seq: number } | null {
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i]!;
    if (e.kind === 'compaction_boundary')
      return { summary: String(e.payload.summary), upto_seq: Number(e.payload.upto_seq) };
  }
  return null;
}
