// The peer: a LangGraph.js durable agent loop with the same two nodes as our step (a fake model
// that asks for one tool call per turn, then answers; an echo tool), checkpointed by SqliteSaver.
// The graph is the one of the shared baseline note (MessagesAnnotation, model → tools | END,
// tools → model). Runs in a child process (bench/lib/child.ts) on the same disk as the daemon.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AIMessage, type BaseMessage, HumanMessage, ToolMessage } from '@langchain/core/messages';
import { END, MessagesAnnotation, START, StateGraph } from '@langchain/langgraph';
import { SqliteSaver } from '@langchain/langgraph-checkpoint-sqlite';
import Database from 'better-sqlite3';
import { ROOT, removeDir, tempDir } from './lib/daemon.ts';
import { Budget, median, round, type Summary, summarize } from './lib/stats.ts';

export interface LangGraphOptions {
  sync: 'FULL' | 'NORMAL';
  /** Tool-call steps per run (model turns = steps + 1). */
  steps: number;
  /** Timed runs of each kind (with steps, and with none). */
  runs: number;
  warmup: number;
  budgetMs: number;
  dir?: string;
}

export interface LangGraphResult {
  sync: string;
  steps_per_run: number;
  runs: number;
  /** Per run: (wall of a run with `steps` steps − median wall of a 0-step run) / steps. */
  step_ms: Summary;
  /** Individual steps: time between consecutive model-node entries inside one run. */
  step_interval_ms: Summary;
  run_ms: Summary;
  zero_step_run_ms: number;
  checkpoint_rows_per_run: number;
  versions: Record<string, string>;
}

/** Model-node entry times of the current invoke (one process runs one invoke at a time). */
let entries: number[] = [];

function buildGraph(saver: SqliteSaver) {
  const model = async (state: typeof MessagesAnnotation.State) => {
    entries.push(performance.now());
    const want = Number((state.messages[0] as BaseMessage).content);
    const turn = state.messages.filter((m) => AIMessage.isInstance(m)).length;
    if (turn < want)
      return {
        messages: [
          new AIMessage({
            content: '',
            tool_calls: [{ id: `call-${turn + 1}`, name: 'echo', args: { text: 'x' }, type: 'tool_call' }],
          }),
        ],
      };
    return { messages: [new AIMessage('done')] };
  };
  const tools = async (state: typeof MessagesAnnotation.State) => {
    const last = state.messages.at(-1) as AIMessage;
    return {
      messages: (last.tool_calls ?? []).map(
        (c) => new ToolMessage({ content: JSON.stringify(c.args), tool_call_id: c.id! }),
      ),
    };
  };
  const route = (state: typeof MessagesAnnotation.State) => {
    const last = state.messages.at(-1) as AIMessage;
    return (last.tool_calls?.length ?? 0) > 0 ? 'tools' : END;
  };
  return new StateGraph(MessagesAnnotation)
    .addNode('model', model)
    .addNode('tools', tools)
    .addEdge(START, 'model')
    .addConditionalEdges('model', route, ['tools', END])
    .addEdge('tools', 'model')
    .compile({ checkpointer: saver });
}

export async function runLangGraph(opts: LangGraphOptions): Promise<LangGraphResult> {
  const dir = opts.dir ?? tempDir('kheish-langgraph-');
  const db = new Database(join(dir, 'langgraph.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${opts.sync}`);
  const saver = new SqliteSaver(db);
  const graph = buildGraph(saver);
  let thread = 0;
  const invoke = async (steps: number) => {
    entries = [];
    const t0 = performance.now();
    const out = await graph.invoke(
      { messages: [new HumanMessage(String(steps))] },
      { configurable: { thread_id: `t${thread++}` } },
    );
    const ms = performance.now() - t0;
    if (out.messages.length !== 2 * steps + 2) throw new Error(`unexpected ${out.messages.length} messages`);
    return { ms, entries: [...entries] };
  };
  try {
    for (let i = 0; i < opts.warmup; i++) await invoke(i % 2 === 0 ? opts.steps : 0);
    const countRows = () =>
      (
        db
          .prepare('select (select count(*) from checkpoints) + (select count(*) from writes) as n')
          .get() as {
          n: number;
        }
      ).n;
    const full: number[] = [];
    const zero: number[] = [];
    const intervals: number[] = [];
    const budget = new Budget(opts.budgetMs);
    // Interleaved so drift (page cache, GC, other load) hits both kinds alike.
    while (full.length < opts.runs && !budget.expired) {
      const r = await invoke(opts.steps);
      full.push(r.ms);
      for (let i = 1; i < r.entries.length; i++) intervals.push(r.entries[i]! - r.entries[i - 1]!);
      zero.push((await invoke(0)).ms);
    }
    const rowsBefore = countRows();
    await invoke(opts.steps);
    const rowsPerRun = countRows() - rowsBefore;
    const zeroMedian = median(zero);
    return {
      sync: opts.sync,
      steps_per_run: opts.steps,
      runs: full.length,
      step_ms: summarize(full.map((ms) => (ms - zeroMedian) / opts.steps)),
      step_interval_ms: summarize(intervals),
      run_ms: summarize(full),
      zero_step_run_ms: round(zeroMedian),
      checkpoint_rows_per_run: round(rowsPerRun, 1),
      versions: versions(),
    };
  } finally {
    db.close();
    if (!opts.dir) removeDir(dir);
  }
}

function versions(): Record<string, string> {
  const out: Record<string, string> = { node: process.version };
  for (const name of ['@langchain/langgraph', '@langchain/langgraph-checkpoint-sqlite', '@langchain/core']) {
    try {
      out[name] = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
    } catch {
      out[name] = 'unknown';
    }
  }
  return out;
}
