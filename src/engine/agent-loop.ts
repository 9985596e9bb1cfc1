// The agent loop for one run: model call → tool calls → results → next model call, until the
// completion boundary accepts a final answer. Each step is one durable transaction (a turn
// boundary). The position is derived from the journal when the executor starts (RunState), also
// after a restart, and then advanced by the executor's own commits, so a resumed run continues
// exactly where it stopped, nothing already journaled is done again, and no step re-reads history.
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { GenerationOptions } from '../models/driver.ts';
import { costUsd, priceFor } from '../models/pricing.ts';
import type { RunRow } from '../store/repos/runs.ts';
import { getSession, type SessionRow } from '../store/repos/sessions.ts';
import type { WriteTx } from '../store/store.ts';
import { questionToolDefinition } from '../tools/control/question.ts';
import { addUsage, type Budget, firstBreach, wallTimeLeft } from './budgets.ts';
import { maybeCompact } from './compaction.ts';
import { finalize } from './finalize.ts';
import { conversation } from './journal-view.ts';
import type { StepOutcome } from './model-step.ts';
import { modelStep } from './model-step.ts';
import type { LoopPort } from './ports.ts';
import { parkQuestionRun } from './question-runs.ts';
import { whileRunning } from './run-guard.ts';
import { RunState } from './run-state.ts';
import { runToolCalls, type StepWrite } from './tool-calls.ts';
import { appendTraces, publishLiveTrace, type Trace } from './traces.ts';
import { inputText, type StoredRunRequest } from './types.ts';
import { addRunUsage, usageOf } from './usage.ts';

export async function runAgentLoop(engine: LoopPort, startRun: RunRow, signal: AbortSignal): Promise<void> {
  const asks = engine.questionRuns.get(startRun.kind);
  if (asks) return parkQuestionRun(engine, startRun, asks);
  const request = JSON.parse(startRun.request) as StoredRunRequest;
  const text = inputText(request);
  const state = await RunState.load(engine, startRun);
  const pos = state.pos;

  for (;;) {
    // SQLite calls are synchronous: yield once per step so a fast loop never starves HTTP and SSE.
    await yieldToEventLoop();
    if (signal.aborted) throw signal.reason;
    // The session row is read once per step: its policy, rules and budget may change between steps.
    const session = await getSession(engine.store.db, state.run.session_id);

    if (pos.pendingToolCalls.length > 0) {
      if ((await runToolCalls(engine, state, session, pos.pendingToolCalls, signal)) === 'parked') return;
      continue;
    }
    if (pos.finished) {
      // A final answer whose verdict was not committed cannot exist (they share a transaction);
      // re-judging is idempotent and covers a run that was re-queued by recovery.
      await whileRunning(engine, state.run.run_id, (tx, run) =>
        finalize(engine, tx, run, state, pos.finalText),
      );
      return;
    }

    const run = state.run;
    const breach = await checkBudgets(engine, state, session, request, pos.calls - pos.repairCalls);
    if (breach) {
      await engine.failRun(run.run_id, breach, 'budget_exhausted');
      return;
    }

    const routeId = pos.route?.route_id ?? run.route_id;
    const context = await engine.store.journal.window(run.session_id);
    if (await maybeCompact(engine, state, routeId, context, engine.routes.driverFor(routeId), signal))
      continue;

    const generation = generationFor(session, request, pos.repairDue);
    const elapsed = Date.now() - (run.started_at_ms ?? Date.now());
    const outcome = await modelStep(
      engine,
      state,
      {
        messages: [
          ...(await engine.systemPromptFor(run)).map((content) => ({ role: 'system' as const, content })),
          ...conversation(context),
        ],
        input_text: text,
        tools: pos.repairDue ? [] : await toolSurface(engine, run),
        generation,
        purpose: pos.repairDue ? 'repair' : 'turn',
        onTextDelta: (delta) => publishLiveTrace(engine.events, run, { kind: 'assistant_text_delta', delta }),
      },
      signal,
      wallTimeLeft(request.budget ?? null, elapsed),
    );
    if (outcome.kind === 'retry') continue;
    if (outcome.kind === 'failed') {
      await engine.failRun(run.run_id, outcome.message, outcome.code);
      return;
    }

    const { response } = outcome;
    const route = engine.routes.get(outcome.route_id)?.config;
    const price = priceFor(outcome.model, route?.pricing);
    const finished = turnFinished(outcome, pos.calls, pos.repairDue ? 'repair' : 'turn');
    // The assistant turn and its usage are not committed on their own: they ride on the step's
    // one transaction (with the tool results, the park for a human, or the completion verdict).
    const record = async (tx: WriteTx, current: RunRow): Promise<RunRow> => {
      await engine.opts.audit.append(tx.db, outcome.audit, tx.now);
      await state.journal(tx, [
        {
          kind: 'assistant_message',
          payload: {
            text: response.text,
            tool_calls: response.tool_calls,
            usage: response.usage,
            call_index: pos.calls,
            route_id: outcome.route_id,
            model: outcome.model,
            purpose: pos.repairDue ? 'repair' : 'turn',
          },
        },
      ]);
      const updated = await addRunUsage(tx, current, {
        model_calls: 1,
        input_tokens: response.usage.input_tokens,
        output_tokens: response.usage.output_tokens,
        cached_input_tokens: response.usage.cached_input_tokens ?? 0,
        total_tokens: response.usage.input_tokens + response.usage.output_tokens,
        cost_usd: costUsd(price, response.usage),
        unpriced_calls: price || route?.driver === 'scripted' ? 0 : 1,
      });
      state.committed(tx, updated);
      return updated;
    };
    if (response.tool_calls.length > 0) {
      // The turn's trace goes out with the batch's own traces (one insert for the step), unless
      // the turn also said something: that output follows its trace.
      const turn: StepWrite = async (tx, current) => {
        const updated = await record(tx, current);
        if (response.text.length === 0) return [finished];
        await appendTraces(engine.events, tx, updated, [finished]);
        // Text said alongside tool calls is still something the assistant told the user.
        await engine.recordOutput(tx, updated, response.text);
        return [];
      };
      const batch = await runToolCalls(engine, state, session, response.tool_calls, signal, turn);
      if (batch === 'parked') return;
      continue;
    }
    const verdict = await whileRunning(engine, run.run_id, async (tx, current) => {
      const updated = await record(tx, current);
      await appendTraces(engine.events, tx, updated, [finished]);
      return finalize(engine, tx, updated, state, response.text);
    });
    if (verdict !== 'continue') return;
  }
}

/** The model_turn_finished trace of a call that answered (docs/events.md). */
function turnFinished(
  outcome: Extract<StepOutcome, { kind: 'response' }>,
  callIndex: number,
  purpose: string,
): Trace {
  const { response } = outcome;
  const usage: Record<string, number> = {
    input_tokens: response.usage.input_tokens,
    output_tokens: response.usage.output_tokens,
  };
  if (response.usage.cached_input_tokens) usage.cached_input_tokens = response.usage.cached_input_tokens;
  const trace: Trace = {
    kind: 'model_turn_finished',
    route_id: outcome.route_id,
    model: outcome.model,
    call_index: callIndex,
    purpose,
    finish_reason: response.stop_reason,
    usage,
    tool_calls: response.tool_calls.map((c) => c.name),
    text_chars: response.text.length,
    started_at_ms: outcome.started_at_ms,
    duration_ms: outcome.duration_ms,
  };
  if (response.provider_stop_reason) trace.provider_finish_reason = response.provider_stop_reason;
  return trace;
}

/** Run budget (from the request, turns also from KHEISH_AGENT_MAX_TURNS) and session budget. */
async function checkBudgets(
  engine: LoopPort,
  state: RunState,
  session: SessionRow | undefined,
  request: StoredRunRequest,
  turns: number,
): Promise<string | null> {
  const { maxTurns } = engine.opts;
  const runBudget: Budget = { ...request.budget };
  if (maxTurns > 0 && (runBudget.max_turns === undefined || runBudget.max_turns > maxTurns))
    runBudget.max_turns = maxTurns;
  const usage = usageOf(state.run);
  const elapsed = Date.now() - (state.run.started_at_ms ?? Date.now());
  const runBreach = firstBreach('run', runBudget, { ...usage, model_calls: turns }, elapsed);
  if (runBreach) return runBreach.message;
  const sessionBudget = session?.budget ? (JSON.parse(session.budget) as Budget) : null;
  if (!sessionBudget) return null;
  const others = await state.otherRunsOfSession();
  const total = addUsage(others.usage, usage);
  return firstBreach('session', sessionBudget, total, others.elapsedMs + elapsed)?.message ?? null;
}

/** Session route-policy generation settings, overridden field by field by the run's own. */
function generationFor(
  session: SessionRow | undefined,
  request: StoredRunRequest,
  repair: boolean,
): GenerationOptions {
  const policy = session?.route_policy
    ? (JSON.parse(session.route_policy) as { generation?: Record<string, unknown> })
    : {};
  const merged: Record<string, unknown> = { ...policy.generation, ...request.generation };
  const out: GenerationOptions = {};
  if (typeof merged.temperature === 'number') out.temperature = merged.temperature;
  if (typeof merged.max_output_tokens === 'number') out.max_output_tokens = merged.max_output_tokens;
  if (typeof merged.reasoning_effort === 'string')
    out.reasoning_effort = merged.reasoning_effort as GenerationOptions['reasoning_effort'];
  if (typeof merged.allow_parallel_tool_calls === 'boolean')
    out.allow_parallel_tool_calls = merged.allow_parallel_tool_calls;
  const choice = merged.tool_choice as string | { type: string; name?: string } | undefined;
  if (typeof choice === 'string') out.tool_choice = choice as GenerationOptions['tool_choice'];
  else if (choice?.type === 'specific' && choice.name)
    out.tool_choice = { type: 'specific', name: choice.name };
  else if (choice) out.tool_choice = choice.type as GenerationOptions['tool_choice'];
  if (repair) {
    out.tool_choice = 'none';
    out.allow_parallel_tool_calls = false;
  }
  return out;
}

/** What the model may call: the registry's tools allowed for this run, plus the question tool. */
async function toolSurface(engine: LoopPort, run: RunRow) {
  const allowed = await engine.toolSurfaceFor(run);
  return [
    ...engine.tools
      .list()
      .filter((t) => !allowed || allowed.has(t.name))
      .map((t) => ({ name: t.name, description: t.description, input_schema: t.input_schema })),
    questionToolDefinition,
  ];
}
