// Builds one terminal run's memory record from durable state (concepts §4.9): the request preview,
// the latest assistant text, the error (failed runs) or a status note, capped, and sanitized before
// it is stored — the request is scrubbed whole, then cut, so a cut never splits a secret in two.
import { inputText, type StoredRunRequest } from '../../engine/types.ts';
import { maskPersonalData, maskTokenShapes } from '../../secrets/redact-text.ts';
import type { RunRow } from '../../store/repos/runs.ts';
import type { Executor } from '../../store/schema.ts';
import type { RunMemoryRecord, RunMemoryStatus } from './port.ts';

/** The hard cap of one record's summary. */
export const MAX_SUMMARY_CHARS = 480;
const MAX_PREVIEW_CHARS = 240;
const MAX_MARKER_CHARS = 120;
const MAX_MARKERS = 4;

export const TERMINAL: readonly RunMemoryStatus[] = ['completed', 'failed', 'interrupted', 'cancelled'];

/**
 * Compact but line-preserving: runs of spaces collapse, blank lines go, line breaks stay (labelled
 * statements such as `Fact: …` one per line are read back by the learnings' semantic capture).
 */
const squash = (text: string) =>
  text
    .split(/\r?\n/)
    .map((l) => l.replace(/[ \t\f\v]+/g, ' ').trim())
    .filter(Boolean)
    .join('\n');

export function cap(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`;
}

/** The masks applied before storage: token shapes always, personal data when `redact_pii`. */
export function sanitize(text: string, redactPii: boolean): string {
  const masked = maskTokenShapes(text);
  return redactPii ? maskPersonalData(masked) : masked;
}

async function latestAssistantText(db: Executor, run: RunRow): Promise<string | null> {
  const rows = await db
    .selectFrom('journal')
    .select('payload')
    .where('session_id', '=', run.session_id)
    .where('run_id', '=', run.run_id)
    .where('kind', '=', 'assistant_message')
    .orderBy('seq', 'desc')
    .limit(8)
    .execute();
  for (const r of rows) {
    const text = (JSON.parse(r.payload) as { text?: unknown }).text;
    if (typeof text === 'string' && text.trim()) return text;
  }
  return null;
}

/** Daemon-owned artifacts of the run: its debug artifacts, when debug capture kept any. */
async function artifactIds(db: Executor, runId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('debug_artifacts')
    .select('artifact_id')
    .where('run_id', '=', runId)
    .orderBy('artifact_id')
    .limit(16)
    .execute();
  return rows.map((r) => r.artifact_id);
}

export async function buildRecord(
  db: Executor,
  run: RunRow,
  opts: { now: number; redactPii: boolean; scopeKeys: string[]; semanticCapture: boolean },
): Promise<RunMemoryRecord> {
  const clean = (text: string, max: number) => cap(squash(sanitize(text, opts.redactPii)), max);
  const status = run.status as RunMemoryStatus;
  let request: string | null = null;
  try {
    const text = inputText(JSON.parse(run.request) as StoredRunRequest);
    request = text.trim() ? clean(text, MAX_PREVIEW_CHARS) : null;
  } catch {
    request = null;
  }
  const assistant = await latestAssistantText(db, run);
  const outcome = assistant ? clean(assistant, MAX_PREVIEW_CHARS) : null;
  const markers: string[] = [];
  if (status !== 'completed') markers.push(`status:${status}`);
  if (run.error_code) markers.push(`error_code:${clean(run.error_code, 60)}`);
  if (status === 'failed' && run.error) markers.push(`error:${clean(run.error, MAX_MARKER_CHARS)}`);
  const parts: string[] = [];
  if (request) parts.push(`Request: ${request}`);
  if (outcome) parts.push(`Outcome: ${outcome}`);
  if (status === 'failed' && run.error) parts.push(`Error: ${clean(run.error, MAX_MARKER_CHARS)}`);
  if (!outcome && status !== 'failed') parts.push(`Run ${status}.`);
  return {
    run_id: run.run_id,
    session_id: run.session_id,
    captured_at_ms: opts.now,
    status,
    summary: cap(parts.join(' '), MAX_SUMMARY_CHARS),
    request_preview: request,
    outcome_preview: outcome,
    artifact_ids: await artifactIds(db, run.run_id),
    failure_markers: markers.slice(0, MAX_MARKERS),
    scope_keys: opts.scopeKeys,
    semantic_capture: status === 'completed' && opts.semanticCapture ? 'pending' : 'skipped',
  };
}
