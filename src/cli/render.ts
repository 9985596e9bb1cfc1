// Pretty renderings of sessions, runs and their logs. Every field is read defensively: the views
// are loosely typed and older or newer daemons may omit or add fields.
import type {
  ListResult,
  OutputRecord,
  RunEventEntry,
  RunView,
  SessionEventLog,
  SessionSummary,
  SessionView,
} from '../sdk/types.ts';
import { isPage, itemsOf } from '../sdk/types.ts';
import {
  arr,
  duration,
  errorText,
  indent,
  keyValues,
  num,
  obj,
  oneLine,
  plural,
  scalar,
  str,
  table,
  time,
} from './format.ts';
import { type StepContext, traceSummary } from './step-lines.ts';

function routeText(policy: unknown): string | undefined {
  const p = obj(policy);
  if (!p) return undefined;
  const provider = str(p.provider) ?? str(p.route_id);
  const model = str(obj(p.generation)?.model) ?? str(p.model);
  if (!provider && !model) return undefined;
  return [provider, model].filter(Boolean).join(' / ');
}

function personaText(persona: unknown): string | undefined {
  const p = obj(persona);
  if (!p) return undefined;
  const id = str(p.persona_id);
  const version = p.persona_version === undefined ? '' : ` v${scalar(p.persona_version)}`;
  return id ? `${id}${version}` : undefined;
}

function sessionStatus(view: Record<string, unknown>): string | undefined {
  const snapshot = obj(view.snapshot);
  return (
    str(view.status) ?? str(snapshot?.status) ?? str(obj(snapshot?.state)?.status) ?? str(snapshot?.state)
  );
}

function countOf(value: unknown): number | undefined {
  return Array.isArray(value) ? value.length : num(value);
}

export function renderSession(view: SessionView): string[] {
  const snapshot = obj(view.snapshot);
  const outputs = arr(view.outputs) as OutputRecord[];
  const last = outputs.at(-1);
  const goal = obj(view.goal);
  const approvals = countOf(view.pending_approvals ?? snapshot?.pending_approvals);
  const questions = countOf(view.pending_questions ?? snapshot?.pending_questions);
  return keyValues([
    ['session', view.session_id],
    ['agent', str(view.agent_id)],
    ['status', sessionStatus(view)],
    ['thread', str(view.thread_id) ?? str(snapshot?.thread_id)],
    ['route', routeText(view.route_policy)],
    ['persona', personaText(view.persona)],
    [
      'goal',
      goal
        ? `${scalar(goal.objective ?? goal.text, 100)}${goal.status ? ` (${scalar(goal.status)})` : ''}`
        : undefined,
    ],
    ['approvals', approvals ? `${approvals} pending` : undefined],
    ['questions', questions ? `${questions} pending` : undefined],
    ['outputs', outputs.length ? String(outputs.length) : undefined],
    ['last output', last?.content ? oneLine(last.content, 200) : undefined],
  ]);
}

export function renderSessionList(result: ListResult<SessionSummary>): string[] {
  const items = itemsOf(result);
  const lines =
    items.length === 0
      ? ['no sessions']
      : table(
          ['SESSION', 'STATUS', 'APPROVALS', 'QUESTIONS', 'ROUTE', 'PERSONA'],
          items.map((s) => [
            s.session_id,
            sessionStatus(s) ?? '-',
            String(countOf(s.pending_approvals) ?? 0),
            String(countOf(s.pending_questions) ?? 0),
            routeText(s.route_policy) ?? '-',
            personaText(s.persona) ?? '-',
          ]),
        );
  return [...lines, ...pageFooter(result)];
}

export function pageFooter<T>(result: ListResult<T>): string[] {
  if (!isPage(result)) return [];
  const { pagination, items } = result;
  const total = num(pagination.total_count);
  const lines = [total === undefined ? `(${items.length} shown)` : `(${items.length} of ${total})`];
  if (pagination.has_more && pagination.next_cursor)
    lines.push(`next page: --cursor ${pagination.next_cursor}`);
  return lines;
}

export function runRoute(run: RunView): string | undefined {
  const req = obj(run.request);
  const provider = str(req?.provider);
  const model = str(req?.model);
  return provider || model ? [provider, model].filter(Boolean).join(' / ') : undefined;
}

export function runDuration(run: RunView): string | undefined {
  const start = num(run.started_at_ms) ?? num(run.submitted_at_ms);
  const end = num(run.finished_at_ms);
  return start !== undefined && end !== undefined ? duration(Math.max(0, end - start)) : undefined;
}

export function outputBlocks(outputs: unknown): string[] {
  return (arr(outputs) as OutputRecord[])
    .map((o) => (typeof o?.content === 'string' ? o.content : scalar(o, 200)))
    .filter((text) => text.length > 0)
    .map((text) => indent(text));
}

export function renderRun(run: RunView): string[] {
  const req = obj(run.request);
  const approvals = countOf(run.pending_approval_ids ?? run.pending_approvals);
  const questions = countOf(run.pending_question_ids ?? run.pending_questions);
  const lines = keyValues([
    ['run', run.run_id],
    ['session', run.session_id],
    ['kind', str(run.kind)],
    ['status', run.status],
    ['queued at', num(run.queued_position) !== undefined ? `position ${run.queued_position}` : undefined],
    ['route', runRoute(run)],
    ['input', str(req?.text_preview) ? oneLine(String(req?.text_preview), 200) : undefined],
    ['submitted', time(run.submitted_at_ms)],
    ['started', time(run.started_at_ms)],
    ['finished', time(run.finished_at_ms)],
    ['duration', runDuration(run)],
    ['approvals', approvals ? `${approvals} pending` : undefined],
    ['questions', questions ? `${questions} pending` : undefined],
    ['error', errorText(run.error)],
  ]);
  const outputs = outputBlocks(run.outputs);
  if (outputs.length > 0) lines.push('outputs:', ...outputs);
  return lines;
}

export function renderRunList(result: ListResult<RunView>): string[] {
  const items = itemsOf(result);
  const lines =
    items.length === 0
      ? ['no runs']
      : table(
          ['RUN', 'SESSION', 'STATUS', 'KIND', 'SUBMITTED', 'INPUT'],
          items.map((r) => [
            r.run_id,
            r.session_id,
            r.status,
            str(r.kind) ?? '-',
            time(r.submitted_at_ms) ?? '-',
            oneLine(str(obj(r.request)?.text_preview) ?? '', 40),
          ]),
        );
  return [...lines, ...pageFooter(result)];
}

/** What is worth showing of one persisted run event, besides its type. */
export function runEventDetail(event: Record<string, unknown>): string {
  switch (event.type) {
    case 'queued':
      return event.position === undefined ? '' : `position ${scalar(event.position)}`;
    case 'output':
      return oneLine(str(obj(event.output)?.content) ?? '', 100);
    case 'failed':
      return errorText(event.error) ?? '';
    case 'waiting_for_approval':
    case 'waiting_for_user_question':
      return arr(event.request_ids)
        .map((id) => scalar(id))
        .join(', ');
    case 'approval_resolved':
      return arr(event.resolutions)
        .map((r) => str(obj(r)?.behavior) ?? '?')
        .join(', ');
    default: {
      const { type: _type, ...rest } = event;
      return Object.keys(rest).length ? scalar(rest, 100) : '';
    }
  }
}

export function renderRunEvents(entries: RunEventEntry[], withRun = false): string[] {
  if (entries.length === 0) return ['no events'];
  // Step traces (docs/events.md) read as steps; a tool's end shows the arguments of its start.
  const contexts = new Map<string, StepContext>();
  const contextOf = (e: RunEventEntry): StepContext => {
    const runId = String(e.run_id ?? '');
    let ctx = contexts.get(runId);
    if (!ctx) {
      ctx = { run_id: runId, session_id: String(e.session_id ?? ''), args: new Map() };
      contexts.set(runId, ctx);
    }
    return ctx;
  };
  return entries.map((e) => {
    const ev = obj(e.event) ?? { type: '?' };
    const cells = [time(e.timestamp_ms) ?? '-'];
    if (withRun) cells.push(String(e.run_id ?? '-'));
    cells.push(String(ev.type ?? '?'));
    const detail = ev.type === 'trace' ? traceSummary(obj(ev.trace) ?? {}, contextOf(e)) : runEventDetail(ev);
    if (detail) cells.push(detail);
    return cells.join('  ');
  });
}

export function renderSessionEvents(log: SessionEventLog, sessionId: string): string[] {
  const runEvents = arr(log.run_events) as RunEventEntry[];
  const outputs = arr(log.daemon_outputs);
  return [
    `session ${sessionId}: ${plural(runEvents.length, 'run event')}, ${plural(outputs.length, 'output')}`,
    ...(runEvents.length ? renderRunEvents(runEvents, true) : []),
  ];
}
