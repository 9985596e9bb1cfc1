// Folds a session's SSE frames into what the chat shows: one entry per run (the user's input, every
// step as it happened, the streamed text, the final answer). Pure, so a replay after a reconnect
// rebuilds the same picture, and frames already seen (by SSE id) are ignored: no line twice.
import type { SseFrame } from '../../src/sdk/index.ts';

export interface Step {
  key: string;
  kind: string;
  /** tool name, decision, …: the step's one-line title. */
  title: string;
  args?: unknown;
  result?: string;
  outcome?: string;
  /** An approval request id still waiting for a decision. */
  approvalId?: string;
  detail?: unknown;
}

export interface ChatRun {
  runId: string;
  input: string;
  status: string;
  steps: Step[];
  /** Text of the model turn being streamed (live deltas; replaced by the final output). */
  streaming: string;
  answers: string[];
  pendingApprovalIds: string[];
  usage?: { total_tokens?: number; cost_usd?: number };
  submittedAtMs?: number;
}

export interface ChatState {
  seen: Set<string>;
  runs: ChatRun[];
  sessionStatus: string;
  pendingQuestions: number;
}

export const emptyChat = (): ChatState => ({
  seen: new Set(),
  runs: [],
  sessionStatus: 'idle',
  pendingQuestions: 0,
});

const ACTIVE = new Set(['queued', 'running', 'waiting_for_approval', 'waiting_for_user_input']);
export const isActive = (status: string) => ACTIVE.has(status);

type Data = Record<string, any>;

/** The state after one frame (a new object when anything changed, so Preact re-renders). */
export function applyFrame(state: ChatState, frame: SseFrame): ChatState {
  if (frame.id !== undefined) {
    if (state.seen.has(frame.id)) return state;
    state.seen.add(frame.id);
  }
  const data = frame.data as Data | undefined;
  if (!data || typeof data !== 'object') return state;
  const next: ChatState = { ...state, runs: [...state.runs] };
  const run = (id: string | undefined): ChatRun | undefined => {
    if (!id) return undefined;
    let i = next.runs.findIndex((r) => r.runId === id);
    if (i < 0) {
      next.runs.push({
        runId: id,
        input: '',
        status: 'queued',
        steps: [],
        streaming: '',
        answers: [],
        pendingApprovalIds: [],
      });
      i = next.runs.length - 1;
    }
    const copy = { ...next.runs[i]!, steps: [...next.runs[i]!.steps] };
    next.runs[i] = copy;
    return copy;
  };
  switch (data.type) {
    case 'run_updated': {
      const view = data.run as Data;
      const r = run(view.run_id)!;
      r.status = view.status;
      r.input = r.input || view.request?.text_preview || '';
      r.submittedAtMs = view.submitted_at_ms;
      r.pendingApprovalIds = view.pending_approval_ids ?? [];
      if (view.usage) r.usage = view.usage;
      return next;
    }
    case 'session_state_changed':
      next.sessionStatus = data.status;
      next.pendingQuestions = data.pending_questions ?? 0;
      return next;
    case 'output': {
      const out = data.output as Data;
      const r = run(out.run_id);
      if (!r) return state;
      r.answers = [...r.answers, String(out.content ?? '')];
      r.streaming = '';
      return next;
    }
    case 'trace':
      return traceStep(next, run(data.trace?.run_id), data.trace as Data) ? next : state;
    case 'interrupted': {
      const r = run(data.run_id);
      if (r)
        r.steps.push({ key: frame.id ?? `i${r.steps.length}`, kind: 'interrupted', title: 'interrupted' });
      return next;
    }
    default:
      return state;
  }
}

/** Adds the trace's step to its run; false when it changes nothing visible. */
function traceStep(_state: ChatState, r: ChatRun | undefined, t: Data): boolean {
  if (!r || !t) return false;
  const key = `${t.kind}:${t.tool_call_id ?? t.request_id ?? ''}:${r.steps.length}`;
  switch (t.kind) {
    case 'assistant_text_delta':
      r.streaming += String(t.delta ?? '');
      return true;
    case 'model_turn_started':
      // A turn replayed after a restart streams again from its start: drop the partial text.
      r.streaming = '';
      if ((t.attempt ?? 1) > 1)
        r.steps.push({ key, kind: 'retry', title: `model call retried (attempt ${t.attempt})` });
      return true;
    case 'model_turn_finished':
      return false;
    case 'tool_call_started':
      r.steps.push({
        key,
        kind: 'tool',
        title: t.name,
        args: t.arguments,
        detail: { tool_call_id: t.tool_call_id },
      });
      return true;
    case 'tool_call_finished': {
      const step = [...r.steps]
        .reverse()
        .find((s) => s.kind === 'tool' && (s.detail as Data)?.tool_call_id === t.tool_call_id);
      const result = String(t.output_preview ?? '');
      if (step) {
        const i = r.steps.indexOf(step);
        r.steps[i] = { ...step, result, outcome: t.outcome };
      } else r.steps.push({ key, kind: 'tool', title: t.name, result, outcome: t.outcome });
      return true;
    }
    case 'permission_decided':
      r.steps.push({
        key,
        kind: 'permission',
        title: `${t.name}: ${t.decision}`,
        detail: { mode: t.mode, rule: t.matched_rule },
      });
      return true;
    case 'approval_requested':
      r.steps.push({
        key,
        kind: 'approval',
        title: `approval needed for ${t.name}`,
        args: t.arguments,
        approvalId: t.request_id,
        detail: t.reason,
      });
      return true;
    case 'approval_resolved':
      r.steps.push({
        key,
        kind: 'decision',
        title: `${t.name}: ${t.behavior === 'allow' ? 'approved' : 'denied'}`,
      });
      return true;
    case 'sidechain_spawned':
    case 'child_outcome':
      r.steps.push({
        key,
        kind: 'child',
        title: t.kind === 'sidechain_spawned' ? 'child agent started' : 'child agent finished',
        detail: t,
      });
      return true;
    default:
      r.steps.push({ key, kind: 'event', title: String(t.kind).replaceAll('_', ' '), detail: t });
      return true;
  }
}
