// GET /v1/sessions/{id}/memory-context and /memory-search (api-core §3.5). memory-context previews
// the prompt projection (ranked against `query` when given); memory-search mixes visible learnings,
// recovered runs and — with a query only — visible skills, best first.
import { effectiveCapabilityScope } from '../../engine/capability-scope.ts';
import { errors } from '../../errors/daemon-error.ts';
import { getSession } from '../../store/repos/sessions.ts';
import type { LearningRecord, LearningScope, LearningsPort } from '../learnings/port.ts';
import type { SkillSummaryView } from '../skills/port.ts';
import { promptExclusion, searchVisible } from './eligibility.ts';
import type { RunMemoryRecord } from './port.ts';
import { learnedContext, liveLearnings, recordFields, recoveredMemory } from './projection.ts';
import { byRank, neutralizeFences, queryTerms, type Scored, scoreFields } from './ranking.ts';
import { scopeKey } from './scopes.ts';
import { SEMANTIC_FLOOR, SEMANTIC_WEIGHT } from './semantic.ts';
import type { MemoryService } from './service.ts';

export const SEARCH_LIMIT_DEFAULT = 12;
export const SEARCH_LIMIT_MAX = 50;

export interface ViewPorts {
  learnings: () => LearningsPort | null;
  skills: () => { sessionSkills(sessionId: string): Promise<SkillSummaryView[]> } | null;
}

const recoveredView = (s: Scored<RunMemoryRecord>) => ({
  run_id: s.item.run_id,
  session_id: s.item.session_id,
  status: s.item.status,
  captured_at_ms: s.item.captured_at_ms,
  summary: neutralizeFences(s.item.summary),
  request_preview: s.item.request_preview,
  outcome_preview: s.item.outcome_preview,
  failure_markers: s.item.failure_markers,
  artifact_ids: s.item.artifact_ids,
  score: s.score,
});

const learnedView = (s: Scored<LearningRecord>) => ({
  learning_id: s.item.learning_id,
  scope: s.item.scope,
  kind: s.item.kind,
  content: s.item.content,
  confidence: s.item.confidence,
  status: s.item.status,
  publish_tier: s.item.publish_tier,
  verification_status: s.item.verification_status,
  policy_decision: s.item.policy_decision,
  updated_at_ms: s.item.updated_at_ms,
  score: s.score,
});

async function base(memory: MemoryService, sessionId: string) {
  const session = await getSession(memory.engine.store.db, sessionId);
  if (!session) throw errors.sessionNotFound(sessionId);
  return {
    session_id: sessionId,
    effective_capability_scope: await effectiveCapabilityScope(memory.engine.store.db, session),
    learning_scopes: await memory.learningScopesFor(sessionId),
  };
}

export async function memoryContext(
  memory: MemoryService,
  ports: ViewPorts,
  sessionId: string,
  query?: string,
) {
  const head = await base(memory, sessionId);
  const q = query?.trim() ?? '';
  const now = Date.now();
  const live = await liveLearnings(ports.learnings, head.learning_scopes, now);
  const learned = learnedContext(live, head.learning_scopes, q, now, q === '');
  const recovered = await recoveredMemory(memory, sessionId, q);
  return {
    ...head,
    ...(q ? { query: q } : {}),
    learned_context: learned.entries.map(learnedView),
    recovered_memory: recovered.entries.map(recoveredView),
    visible_skills: (await ports.skills()?.sessionSkills(sessionId)) ?? [],
  };
}

interface Result {
  kind: 'learning' | 'recovered_run' | 'skill';
  source_id: string;
  title: string;
  excerpt: string;
  score: number;
  timestamp_ms: number;
  scope?: LearningScope;
  prompt_eligible: boolean;
  learning_status?: string;
  publish_tier?: string;
  verification_status?: string;
  matched_fields: string[];
}

const excerpt = (text: string, max = 280) => {
  const flat = neutralizeFences(text).replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
};

export function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return SEARCH_LIMIT_DEFAULT;
  return Math.min(SEARCH_LIMIT_MAX, Math.max(1, Math.trunc(limit)));
}

type Lexical = { score: number; matched_fields: string[] };

/**
 * Results from candidates: without a query every candidate, by recency; with one, those with a
 * query word; with semantic ranking on, also those similar enough, scored
 * `(1 - w) · lexical + w · similarity` with `semantic` among their matched fields. A failed
 * embedding call leaves the lexical ranking.
 */
async function finalRanking(
  memory: MemoryService,
  query: string | undefined,
  candidates: Array<{ r: Omit<Result, 'score' | 'matched_fields'>; s: Lexical; text: string }>,
  semantic: boolean,
): Promise<Array<Scored<Result>>> {
  const sims = semantic
    ? await memory.semantic.similarities(
        memory.policy.semantic_search,
        query!,
        candidates.map((c) => c.text),
      )
    : null;
  const out: Array<Scored<Result>> = [];
  candidates.forEach(({ r, s }, i) => {
    let score = s.score;
    let fields = s.matched_fields;
    if (sims) {
      const sim = Math.max(0, sims[i]!);
      score = Math.round(((1 - SEMANTIC_WEIGHT) * s.score + SEMANTIC_WEIGHT * sim) * 10_000) / 10_000;
      if (sim >= SEMANTIC_FLOOR) fields = [...fields, 'semantic'];
      else if (s.score === 0) return;
    } else if (query && s.score === 0) return;
    out.push({
      item: { ...r, score, matched_fields: fields },
      id: `${r.kind}:${r.source_id}`,
      score,
      timestamp_ms: r.timestamp_ms,
      matched_fields: fields,
    });
  });
  return out.sort(byRank);
}

export async function memorySearch(
  memory: MemoryService,
  ports: ViewPorts,
  sessionId: string,
  q: { query?: string; limit?: number },
) {
  const head = await base(memory, sessionId);
  const query = q.query?.trim() || undefined;
  const limit = clampLimit(q.limit);
  const terms = query ? queryTerms(query) : [];
  const now = Date.now();
  const policy = memory.policy;
  const keys = head.learning_scopes.map(scopeKey);
  const wide = policy.search_visibility === 'learning_scopes';
  // Candidates keep their lexical score; which of them are results is decided at the end.
  const candidates: Array<{ r: Omit<Result, 'score' | 'matched_fields'>; s: Lexical; text: string }> = [];
  const add = (r: Omit<Result, 'score' | 'matched_fields'>, s: Lexical, text: string) =>
    candidates.push({ r, s, text });
  const semantic = query !== undefined && policy.semantic_search.enabled;
  const none = { score: 0, matched_fields: [] as string[] };

  for (const l of await liveLearnings(ports.learnings, head.learning_scopes, now)) {
    if (!searchVisible(l, now)) continue;
    const s = query
      ? scoreFields(terms, { content: l.content, kind: l.kind, scope: `${l.scope.kind} ${l.scope.id}` })
      : none;
    add(
      {
        kind: 'learning',
        source_id: l.learning_id,
        title: `${l.kind} (${l.scope.kind}:${l.scope.id})`,
        excerpt: excerpt(l.content),
        timestamp_ms: l.updated_at_ms,
        scope: l.scope,
        prompt_eligible: promptExclusion(l, now) === null,
        learning_status: l.status,
        publish_tier: l.publish_tier,
        verification_status: l.verification_status,
      },
      s,
      l.content,
    );
  }

  // Recovered runs: this session's, or (learning_scopes) any run that saw one of its scopes.
  const records = query
    ? await memory.matchingRecords(terms, sessionId, wide ? keys : null, 1_000)
    : wide
      ? (await memory.recentRecords(limit * 8)).filter(
          (r) => r.session_id === sessionId || r.scope_keys.some((k) => keys.includes(k)),
        )
      : await memory.sessionRecords(sessionId, Math.max(limit, policy.max_tracked_per_session));
  // Semantic ranking also considers this session's records that share no word with the query.
  if (semantic) {
    const have = new Set(records.map((r) => r.run_id));
    for (const r of await memory.sessionRecords(sessionId)) if (!have.has(r.run_id)) records.push(r);
  }
  for (const r of records) {
    const s = query ? scoreFields(terms, recordFields(r)) : none;
    add(
      {
        kind: 'recovered_run',
        source_id: r.run_id,
        title: `Run ${r.status}${r.request_preview ? `: ${excerpt(r.request_preview, 80)}` : ''}`,
        excerpt: excerpt(r.summary),
        timestamp_ms: r.captured_at_ms,
        scope: { kind: 'session', id: r.session_id },
        // Only this session's records can reach its prompt (never another session's).
        prompt_eligible: policy.enabled && r.session_id === sessionId,
      },
      s,
      r.summary,
    );
  }

  // Skills only answer a query: a browse lists what was remembered, not the catalog.
  if (query)
    for (const sk of (await ports.skills()?.sessionSkills(sessionId)) ?? []) {
      const s = scoreFields(terms, {
        name: sk.name.replace(/[-_:]/g, ' '),
        description: sk.description,
        when_to_use: sk.when_to_use,
      });
      add(
        {
          kind: 'skill',
          source_id: sk.name,
          title: sk.name,
          excerpt: excerpt(sk.description),
          timestamp_ms: 0,
          prompt_eligible: false,
        },
        s,
        `${sk.name}: ${sk.description}`,
      );
    }

  const scored = await finalRanking(memory, query, candidates, semantic);
  return {
    ...head,
    ...(query ? { query } : {}),
    truncated: scored.length > limit,
    results: scored.slice(0, limit).map((s) => s.item),
  };
}
