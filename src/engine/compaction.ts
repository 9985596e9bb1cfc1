// Context compaction: when the conversation nears the route's context window, older entries are
// summarised by the model into a `compaction_boundary` journal entry. Only entries the summary
// covers are replaced in later prompts; nothing unsummarised is ever dropped.
import { type ChatMessage, ModelCallError, type ModelDriver, type ModelRequest } from '../models/driver.ts';
import type { JournalEntry } from '../store/repos/journal.ts';
import { needsRendering } from './input-assets.ts';
import { conversation, latestBoundary, toMessage } from './journal-view.ts';
import type { ModelPort } from './ports.ts';
import { providerAction, providerFailed, providerSucceeded } from './provider-audit.ts';
import { whileRunning } from './run-guard.ts';
import type { RunState } from './run-state.ts';
import { appendTraces } from './traces.ts';

export const COMPACTION_THRESHOLD = 0.8;
/** Entries kept verbatim at the end of the conversation. */
const KEEP_RECENT = 4;

export const estimateTokens = (messages: ChatMessage[]): number =>
  Math.ceil(messages.reduce((n, m) => n + m.content.length + 16, 0) / 4);

/** Index of the first entry kept verbatim, never splitting a tool call from its results. */
export function compactionCut(entries: readonly JournalEntry[]): number {
  const conversational = entries.map((e, i) => ({ e, i })).filter(({ e }) => toMessage(e) !== null);
  if (conversational.length <= KEEP_RECENT) return -1;
  let cut = conversational[conversational.length - KEEP_RECENT]!.i;
  while (cut > 0 && entries[cut]!.kind === 'tool_result') cut--;
  return cut;
}

export async function maybeCompact(
  engine: ModelPort,
  state: RunState,
  routeId: string,
  sessionEntries: readonly JournalEntry[],
  driver: ModelDriver,
  signal: AbortSignal,
): Promise<boolean> {
  const { run } = state;
  const window = engine.routes.get(routeId)?.config.context_window_tokens ?? 0;
  if (window <= 0) return false;
  const messages = conversation(sessionEntries);
  if (estimateTokens(messages) < window * COMPACTION_THRESHOLD) return false;
  const covered = latestBoundary(sessionEntries)?.upto_seq ?? 0;
  const cut = compactionCut(sessionEntries);
  // Nothing new to summarise: the entries before the cut are already covered.
  if (cut <= 0 || sessionEntries[cut - 1]!.seq <= covered) return false;
  const older = conversation(sessionEntries.slice(0, cut));
  const uptoSeq = sessionEntries[cut - 1]!.seq;
  const hook = compactionHook(engine, run, uptoSeq, older.length);
  // A blocking pre_compact hook keeps the context as it is (the next step asks again).
  if (engine.hooks.has('pre_compact') && (await hook('pre_compact', signal)).blocked) return false;
  // A refused route is not called for a summary either; the next model step fails the run typed.
  if (await engine.credentialGate?.authorizeRoute(run, routeId)) return false;
  const startedAt = Date.now();
  engine.opts.audit.require();
  const request: Omit<ModelRequest, 'signal'> = {
    run_id: run.run_id,
    model: run.model,
    messages: [
      ...older,
      {
        role: 'user',
        content:
          'Summarise the conversation so far for your own later use: decisions, facts, open tasks, file names and identifiers. Be complete but brief.',
      },
    ],
    input_text: '',
    call_index: -1,
    tools: [],
    onTextDelta: () => undefined,
    generation: { tool_choice: 'none' },
    purpose: 'compaction',
  };
  const action = providerAction({ ...run, route_id: routeId }, request);
  let response: Awaited<ReturnType<ModelDriver['call']>>;
  try {
    // Files of the summarised turns are rendered for the route like in any model call.
    const route = engine.routes.get(routeId);
    const sent =
      route && engine.inputAssets && needsRendering(request.messages)
        ? { ...request, messages: await engine.inputAssets.render(request.messages, route.config, signal) }
        : request;
    response = await driver.call({ ...sent, signal });
  } catch (err) {
    // A failed summary call left the daemon too: its record commits on its own.
    if (!signal.aborted && err instanceof ModelCallError)
      await whileRunning(engine, run.run_id, (tx) =>
        engine.opts.audit.append(
          tx.db,
          providerFailed(action, { status: err.status, message: err.message }),
          tx.now,
        ),
      );
    throw err;
  }
  await whileRunning(engine, run.run_id, async (tx) => {
    await engine.opts.audit.append(tx.db, providerSucceeded(action, response), tx.now);
    await state.journal(tx, [
      {
        kind: 'compaction_boundary',
        payload: { summary: response.text, upto_seq: uptoSeq, usage: response.usage },
      },
    ]);
    await appendTraces(engine.events, tx, run, [
      {
        kind: 'context_compacted',
        upto_seq: uptoSeq,
        route_id: routeId,
        model: run.model,
        messages_summarised: older.length,
        estimated_tokens_before: estimateTokens(messages),
        window_tokens: window,
        summary_chars: response.text.length,
        usage: { input_tokens: response.usage.input_tokens, output_tokens: response.usage.output_tokens },
        started_at_ms: startedAt,
        duration_ms: Date.now() - startedAt,
      },
    ]);
  });
  if (engine.hooks.has('post_compact')) await hook('post_compact', signal);
  return true;
}

function compactionHook(engine: ModelPort, run: RunState['run'], uptoSeq: number, messages: number) {
  return (event: 'pre_compact' | 'post_compact', signal: AbortSignal) =>
    engine.hooks.fire(
      {
        event,
        identity: `${run.run_id}:${uptoSeq}`,
        session_id: run.session_id,
        run_id: run.run_id,
        agent_id: run.agent_id,
        payload: { upto_seq: uptoSeq, messages_summarised: messages },
      },
      signal,
    );
}
