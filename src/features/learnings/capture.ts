// Daemon capture (concepts §4.10): a `run_summary` candidate in the very transaction a run turns
// terminal (so it exists exactly once, crash or not), and semantic `fact`/`preference`/`decision`
// candidates from completed runs' run-memory records: model-backed extraction with a heuristic
// fallback for explicit labels, restart-safe through the run-memory receipts.
import { maskSecrets } from '../../engine/trace-redact.ts';
import type { RunRow } from '../../store/repos/runs.ts';
import { isTerminal } from '../../store/repos/runs.ts';
import type { Executor } from '../../store/schema.ts';
import type { WriteTx } from '../../store/store.ts';
import type { RunMemoryPort, RunMemoryRecord } from '../memory/port.ts';
import type { Automation } from './automation.ts';
import { jsonOf, type ModelCaller } from './model-call.ts';
import { CONTENT_LIMIT, SEMANTIC_KINDS } from './schema.ts';
import { looksPersonal, looksSecret, maskAll, semanticKey } from './semantic.ts';
import { type CandidateDraft, type CandidatesService, newCandidateId } from './service.ts';

const RUN_SUMMARY_KEY = 'run_summary';

/** Crash tests only: SIGKILLs this process at a capture step (`before_extract` or `after_insert`). */
function fault(step: 'before_extract' | 'after_insert'): void {
  if (process.env.KHEISH_FAULT_KILL_IN_SEMANTIC_CAPTURE === step) process.kill(process.pid, 'SIGKILL');
}
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function outputText(record: Record<string, unknown>): string {
  return typeof record.content === 'string' ? record.content : '';
}

export function draftFor(
  runId: string,
  sessionId: string,
  kind: string,
  content: string,
  confidence: number,
  evidence: unknown[],
): CandidateDraft {
  return {
    candidate_id: newCandidateId(),
    origin: 'daemon',
    state: 'pending',
    scope_kind: 'session',
    scope_id: sessionId,
    kind,
    sensitivity: 'scoped',
    content,
    confidence,
    source: JSON.stringify({ session_id: sessionId, run_id: runId }),
    evidence_refs: JSON.stringify(evidence),
    expires_at_ms: null,
    semantic_key: kind === 'run_summary' ? RUN_SUMMARY_KEY : semanticKey(content),
    capture_run_id: runId,
    automation_review: null,
    published_learning_id: null,
    reject_reason: null,
  };
}

/** The engine's run-change hook: a terminal run leaves one masked `run_summary` candidate. */
export async function captureRunSummary(
  svc: CandidatesService,
  automation: Automation,
  tx: WriteTx,
  run: RunRow,
): Promise<void> {
  if (!isTerminal(run.status) || !svc.policy().capture.run_summary_candidates) return;
  const summary = JSON.parse(run.summary || '{}') as { text_preview?: string };
  const out = await tx.db
    .selectFrom('outputs')
    .select('record')
    .where('run_id', '=', run.run_id)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  const outcome = out ? outputText(JSON.parse(out.record)) : '';
  const parts = [`Run ${run.status} (${run.kind}).`];
  if (summary.text_preview) parts.push(`Request: ${clip(summary.text_preview, 400)}`);
  if (outcome) parts.push(`Outcome: ${clip(outcome, 800)}`);
  else if (run.error) parts.push(`Error: ${clip(run.error, 400)}`);
  // Known secret values first (exact), then the shapes and personal data the shared masks know.
  const content = clip(maskAll(maskSecrets(parts.join('\n'), svc.engine.secretValues())), CONTENT_LIMIT);
  const draft = draftFor(run.run_id, run.session_id, 'run_summary', content, 50, [
    { kind: 'run', run_id: run.run_id },
  ]);
  const row = await svc.insert(tx, draft);
  if (row) tx.afterCommit(() => automation.track(automation.review(row.candidate_id)));
}

const LABEL_LINE = /^\s*[-*]?\s*(fact|preference|decision)\s*:\s*(.+?)\s*$/gim;

/** The heuristic: explicit `Fact:` / `Preference:` / `Decision:` lines of the request. */
export function labelledStatements(text: string): Array<{ kind: string; content: string }> {
  const out: Array<{ kind: string; content: string }> = [];
  for (const m of text.matchAll(LABEL_LINE)) out.push({ kind: m[1]!.toLowerCase(), content: m[2]! });
  return out;
}

const EXTRACT_SYSTEM = `You extract durable knowledge from one finished agent run.
Propose at most {max} items a user would want remembered later: stable facts, preferences or decisions stated in the run.
Never include credentials, personal data or temporary details. Answer with JSON only:
{"candidates": [{"kind": "fact" | "preference" | "decision", "content": "<one short statement>", "confidence": <0-100>}]}`;

export class SemanticCapture {
  private readonly svc: CandidatesService;
  private readonly automation: Automation;
  private readonly model: ModelCaller;
  private readonly memory: RunMemoryPort;

  constructor(svc: CandidatesService, automation: Automation, model: ModelCaller, memory: RunMemoryPort) {
    this.svc = svc;
    this.automation = automation;
    this.model = model;
    this.memory = memory;
  }

  /** Replays the records whose capture never settled (boot). */
  async replay(): Promise<void> {
    for (const r of await this.memory.pendingSemanticCaptures()) {
      if (this.automation.stopping.signal.aborted) return;
      await this.capture(r);
    }
  }

  /** Runs whose capture is in flight in this process (the listener and the boot replay may meet). */
  private readonly inflight = new Set<string>();

  async capture(record: RunMemoryRecord): Promise<void> {
    if (record.semantic_capture !== 'pending' || this.inflight.has(record.run_id)) return;
    this.inflight.add(record.run_id);
    try {
      await this.captureOnce(record);
    } finally {
      this.inflight.delete(record.run_id);
    }
  }

  private async captureOnce(record: RunMemoryRecord): Promise<void> {
    const sc = this.svc.policy().capture.semantic_candidates;
    if (!sc.enabled || record.status !== 'completed') {
      await this.memory.settleSemanticCapture(record.run_id, 'skipped');
      return;
    }
    const inserted: string[] = [];
    // A capture that committed before a crash is not extracted again (a model may answer differently).
    if (!(await this.captured(this.svc.store.db, record.run_id))) {
      fault('before_extract');
      const proposals = await this.extract(record, sc);
      const evidence = [{ kind: 'run_memory', run_id: record.run_id, session_id: record.session_id }];
      await this.svc.store.write(async (tx) => {
        // Checked again in the write (writes are serialized, across PostgreSQL replicas too): one
        // set of candidates per run, whichever capture commits first.
        if (await this.captured(tx.db, record.run_id)) return;
        for (const p of proposals) {
          const row = await this.svc.insert(
            tx,
            draftFor(record.run_id, record.session_id, p.kind, p.content, p.confidence, evidence),
          );
          if (row) inserted.push(row.candidate_id);
        }
      });
    }
    fault('after_insert');
    await this.memory.settleSemanticCapture(record.run_id, 'completed');
    for (const id of inserted) await this.automation.review(id);
  }

  private async captured(db: Executor, runId: string): Promise<boolean> {
    const row = await db
      .selectFrom('learning_candidates')
      .select('candidate_id')
      .where('capture_run_id', '=', runId)
      .where('kind', 'in', [...SEMANTIC_KINDS])
      .executeTakeFirst();
    return row !== undefined;
  }

  private async extract(
    record: RunMemoryRecord,
    sc: { model: string | null; timeout_ms: number | null; max_candidates_per_run: number },
  ) {
    const text = [record.request_preview ?? '', record.outcome_preview ?? ''].join('\n');
    let proposals: Array<{ kind: string; content: string; confidence?: number }> = [];
    try {
      const answer = await this.model({
        model: sc.model,
        timeout_ms: sc.timeout_ms,
        system: EXTRACT_SYSTEM.replace('{max}', String(sc.max_candidates_per_run)),
        user: `Request:\n${record.request_preview ?? ''}\n\nOutcome:\n${record.outcome_preview ?? record.summary}`,
        tag: `learning-capture-${record.run_id}`,
        signal: this.automation.stopping.signal,
      });
      const parsed = jsonOf(answer) as { candidates?: unknown };
      if (!Array.isArray(parsed.candidates)) throw new Error('no candidates array');
      proposals = parsed.candidates.filter(
        (x): x is { kind: string; content: string; confidence?: number } =>
          !!x &&
          typeof (x as { kind?: unknown }).kind === 'string' &&
          typeof (x as { content?: unknown }).content === 'string',
      );
    } catch (e) {
      this.svc.log.debug(
        { err: (e as Error).message, run_id: record.run_id },
        'semantic extraction fell back to labels',
      );
    }
    if (!proposals.length) proposals = labelledStatements(record.request_preview ?? text);
    const seen = new Set<string>();
    const out: Array<{ kind: string; content: string; confidence: number }> = [];
    for (const p of proposals) {
      const content = p.content.trim();
      const kind = p.kind.toLowerCase();
      if (
        !(SEMANTIC_KINDS as readonly string[]).includes(kind) ||
        !content ||
        [...content].length > CONTENT_LIMIT
      )
        continue;
      // Secret-looking or personal statements are dropped before anything is persisted.
      if (looksSecret(content) || looksPersonal(content)) continue;
      const key = semanticKey(content);
      if (seen.has(key)) continue;
      seen.add(key);
      const c = Number.isInteger(p.confidence) ? Math.min(100, Math.max(0, p.confidence!)) : 70;
      out.push({ kind, content, confidence: c });
      if (out.length >= sc.max_candidates_per_run) break;
    }
    return out;
  }
}
