// Memory search quality on a fixed corpus (test/fixtures/memory-corpus/corpus.json, issue 19): 200
// learnings and 100 recovered-run records over 20 topics, 40 labelled queries. The runs are stored
// in a real SQLite store (migration 0035 with its FTS5 index) and found the way memory-search finds
// them (full-text candidates, then the deterministic lexical score); the learnings are scored by
// the same code memory-search uses. Reported: precision@5 (share of the top five that belong to
// the query's topic) for learnings, for recovered runs and for the mixed list, and the query time.
// Semantic (embedding) ranking is not built (docs/decisions.md 443), so it has no row.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LearningRecord } from '../src/features/learnings/port.ts';
import type { RunMemoryRecord } from '../src/features/memory/port.ts';
import { recordFields } from '../src/features/memory/projection.ts';
import { byRank, queryTerms, type Scored, scoreFields } from '../src/features/memory/ranking.ts';
import { insertRecord, matchingRecords } from '../src/features/memory/repo.ts';
import { Store } from '../src/store/store.ts';
import { ROOT, removeDir, tempDir } from './lib/daemon.ts';
import { round, type Summary, summarize } from './lib/stats.ts';

export interface MemoryBenchResult {
  store: 'sqlite';
  learnings: number;
  runs: number;
  queries: number;
  precision_at_5: { learnings: number; recovered_runs: number; mixed: number };
  query_ms: Summary;
}

interface Corpus {
  learnings: Array<{
    learning_id: string;
    topic: string;
    scope: LearningRecord['scope'];
    kind: string;
    content: string;
    updated_at_ms: number;
  }>;
  runs: Array<RunMemoryRecord & { topic: string }>;
  queries: Array<{
    query: string;
    topic: string;
    relevant_learning_ids: string[];
    relevant_run_ids: string[];
  }>;
}

const precision = (top: string[], relevant: Set<string>) =>
  top.length === 0 ? 0 : top.slice(0, 5).filter((id) => relevant.has(id)).length / 5;

export async function runMemory(): Promise<MemoryBenchResult> {
  const corpus = JSON.parse(
    readFileSync(join(ROOT, 'test/fixtures/memory-corpus/corpus.json'), 'utf8'),
  ) as Corpus;
  const dir = tempDir('kheish-bench-memory-');
  const store = await Store.open({ stateRoot: dir, sync: 'NORMAL' });
  try {
    await store.write(async (tx) => {
      for (const r of corpus.runs)
        await insertRecord(tx.db, {
          ...r,
          session_id: 'bench',
          artifact_ids: [],
          failure_markers: [],
          scope_keys: ['session:bench'],
          semantic_capture: 'skipped',
        });
    });
    const sums = { learnings: 0, runs: 0, mixed: 0 };
    const times: number[] = [];
    for (const q of corpus.queries) {
      const t0 = performance.now();
      const terms = queryTerms(q.query);
      const learned: Scored<string>[] = corpus.learnings
        .map((l) => ({
          item: l.learning_id,
          id: l.learning_id,
          timestamp_ms: l.updated_at_ms,
          ...scoreFields(terms, { content: l.content, kind: l.kind, scope: `${l.scope.kind} ${l.scope.id}` }),
        }))
        .filter((s) => s.score > 0)
        .sort(byRank);
      const found = await matchingRecords(store.db, terms, 0, { sessionId: 'bench', scopeKeys: null }, 1_000);
      const recovered: Scored<string>[] = found
        .map((r) => ({
          item: r.run_id,
          id: r.run_id,
          timestamp_ms: r.captured_at_ms,
          ...scoreFields(terms, recordFields(r)),
        }))
        .filter((s) => s.score > 0)
        .sort(byRank);
      const mixed = [...learned, ...recovered].sort(byRank);
      times.push(performance.now() - t0);
      const relevant = new Set([...q.relevant_learning_ids, ...q.relevant_run_ids]);
      sums.learnings += precision(
        learned.map((s) => s.item),
        relevant,
      );
      sums.runs += precision(
        recovered.map((s) => s.item),
        relevant,
      );
      sums.mixed += precision(
        mixed.map((s) => s.item),
        relevant,
      );
    }
    const n = corpus.queries.length;
    return {
      store: 'sqlite',
      learnings: corpus.learnings.length,
      runs: corpus.runs.length,
      queries: n,
      precision_at_5: {
        learnings: round(sums.learnings / n, 3),
        recovered_runs: round(sums.runs / n, 3),
        mixed: round(sums.mixed / n, 3),
      },
      query_ms: summarize(times),
    };
  } finally {
    await store.close();
    removeDir(dir);
  }
}
