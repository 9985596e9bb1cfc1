// The memory sections of a run's system prompt, computed at its first model call and kept for its
// later calls (the same run sees the same memory, and a provider's prompt cache stays warm). The
// metrics count a run once: `injected_total` only for entries final packing kept.
import { inputText, type StoredRunRequest } from '../../engine/types.ts';
import type { RunRow } from '../../store/repos/runs.ts';
import type { LearningsPort } from '../learnings/port.ts';
import {
  learnedContext,
  liveLearnings,
  recoveredMemory,
  renderLearned,
  renderRecovered,
} from './projection.ts';
import type { MemoryService } from './service.ts';

export class MemoryPrompt {
  private readonly memory: MemoryService;
  private readonly learnings: () => LearningsPort | null;
  private readonly byRun = new Map<string, Promise<string[]>>();

  constructor(memory: MemoryService, learnings: () => LearningsPort | null) {
    this.memory = memory;
    this.learnings = learnings;
    memory.engine.onRunTerminal(async (tx, run) => tx.afterCommit(() => this.byRun.delete(run.run_id)));
  }

  partsFor(run: RunRow): Promise<string[]> {
    let parts = this.byRun.get(run.run_id);
    if (!parts) {
      parts = this.build(run);
      this.byRun.set(run.run_id, parts);
      // A failed build is retried by the next model call rather than cached.
      parts.catch(() => this.byRun.delete(run.run_id));
    }
    return parts;
  }

  private async build(run: RunRow): Promise<string[]> {
    let input = '';
    try {
      input = inputText(JSON.parse(run.request) as StoredRunRequest);
    } catch {
      input = '';
    }
    const out: string[] = [];
    const recovered = await recoveredMemory(this.memory, run.session_id, input);
    const r = renderRecovered(recovered);
    if (r) out.push(r);
    this.memory.metrics.injected_total += recovered.entries.length;
    this.memory.metrics.prompt_limit_omitted_total += recovered.omitted;

    const now = Date.now();
    const scopes = await this.memory.learningScopesFor(run.session_id);
    const learned = learnedContext(await liveLearnings(this.learnings, scopes, now), scopes, input, now);
    const l = renderLearned(learned);
    if (l) out.push(l);
    this.memory.sessionMetrics.injected_total += learned.entries.length;
    this.memory.sessionMetrics.prompt_limit_omitted_total += learned.omitted;
    return out;
  }
}
