// The agent loop for one run: model call → tool calls → results → next model call, until a
// turn without tool calls. Each step is one durable transaction (a turn boundary); the loop's
// position is always re-derived from the journal, so a resumed run continues where it stopped.
import { type ChatMessage, ModelCallError, type ToolCall } from '../models/driver.ts';
import {
  appendJournal,
  insertOutput,
  type JournalEntry,
  runJournal,
  sessionJournal,
} from '../store/repos/journal.ts';
import { getRun, type RunRow } from '../store/repos/runs.ts';
import type { WriteTx } from '../store/store.ts';
import type { Engine } from './engine.ts';
import { RunStopped } from './engine.ts';
import { inputText, type StoredRunRequest } from './types.ts';

const MAX_RETRIES = 3;

interface RunPosition {
  calls: number;
  consecutiveFailures: number;
  pendingToolCalls: ToolCall[];
  finished: boolean;
}

export function positionOf(entries: JournalEntry[]): RunPosition {
  let calls = 0;
  let consecutiveFailures = 0;
  let pending: ToolCall[] = [];
  let finished = false;
  for (const e of entries) {
    if (e.kind === 'assistant_message') {
      calls++;
      consecutiveFailures = 0;
      pending = (e.payload.tool_calls as ToolCall[]) ?? [];
      finished = pending.length === 0;
    } else if (e.kind === 'model_call_failed') {
      calls++;
      consecutiveFailures++;
    } else if (e.kind === 'tool_result') {
      pending = pending.filter((c) => c.id !== e.payload.tool_call_id);
    }
  }
  return { calls, consecutiveFailures, pendingToolCalls: pending, finished };
}

export function conversation(entries: JournalEntry[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (const e of entries) {
    if (e.kind === 'input_received') out.push({ role: 'user', content: String(e.payload.text ?? '') });
    else if (e.kind === 'assistant_message')
      out.push({
        role: 'assistant',
        content: String(e.payload.text ?? ''),
        tool_calls: (e.payload.tool_calls as ToolCall[]) ?? [],
      });
    else if (e.kind === 'tool_result')
      out.push({
        role: 'tool',
        tool_call_id: String(e.payload.tool_call_id),
        name: String(e.payload.name),
        content: String(e.payload.content),
        is_error: Boolean(e.payload.is_error),
      });
  }
  return out;
}

/** Runs `fn` in a transaction only while the run is still `running` (cancel/interrupt win). */
async function whileRunning<T>(
  engine: Engine,
  runId: string,
  fn: (tx: WriteTx, run: RunRow) => Promise<T>,
): Promise<T> {
  return engine.store.write(async (tx) => {
    const run = await getRun(tx.db, runId);
    if (!run || run.status !== 'running') throw new RunStopped(`run ${runId} is ${run?.status ?? 'gone'}`);
    return fn(tx, run);
  });
}

const abortableSleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });

export async function runAgentLoop(engine: Engine, startRun: RunRow, signal: AbortSignal): Promise<void> {
  const request = JSON.parse(startRun.request) as StoredRunRequest;
  const text = inputText(request);
  const driver = engine.routes.driverFor(startRun.route_id);
  const { maxTurns } = engine.opts;

  for (;;) {
    if (signal.aborted) throw signal.reason;
    const pos = positionOf(await runJournal(engine.store.db, startRun.run_id));

    if (pos.pendingToolCalls.length > 0) {
      await executeToolCalls(engine, startRun, pos.pendingToolCalls, signal);
      continue;
    }
    if (pos.finished) {
      // Crash after the final message but before completion: finish without a new model call.
      await whileRunning(engine, startRun.run_id, (tx) =>
        engine.transition(tx, startRun.run_id, 'completed'),
      );
      return;
    }
    if (maxTurns > 0 && pos.calls >= maxTurns) {
      await engine.failRun(
        startRun.run_id,
        `budget_exhausted: turns (the run reached its limit of ${maxTurns} model calls)`,
      );
      return;
    }

    const messages = conversation(await sessionJournal(engine.store.db, startRun.session_id));
    try {
      const response = await driver.call({
        run_id: startRun.run_id,
        model: startRun.model,
        messages,
        input_text: text,
        call_index: pos.calls,
        tools: engine.tools
          .list()
          .map((t) => ({ name: t.name, description: t.description, input_schema: t.input_schema })),
        signal,
        onTextDelta: (delta) =>
          engine.events.publishLive({
            name: 'trace',
            session_id: startRun.session_id,
            run_id: startRun.run_id,
            data: {
              trace: {
                kind: 'assistant_text_delta',
                session_id: startRun.session_id,
                run_id: startRun.run_id,
                delta,
              },
            },
          }),
      });
      if (signal.aborted) throw signal.reason;
      await whileRunning(engine, startRun.run_id, async (tx, run) => {
        await appendJournal(tx.db, run.session_id, run.run_id, tx.now, [
          {
            kind: 'assistant_message',
            payload: {
              text: response.text,
              tool_calls: response.tool_calls,
              usage: response.usage,
              call_index: pos.calls,
            },
          },
        ]);
        if (response.text.length > 0) await recordOutput(engine, tx, run, response.text);
        if (response.tool_calls.length === 0) await engine.transition(tx, run.run_id, 'completed');
      });
      if (response.tool_calls.length === 0) return;
    } catch (err) {
      if (signal.aborted || err instanceof RunStopped) throw err;
      if (!(err instanceof ModelCallError)) throw err;
      await whileRunning(engine, startRun.run_id, async (tx, run) => {
        await appendJournal(tx.db, run.session_id, run.run_id, tx.now, [
          {
            kind: 'model_call_failed',
            payload: { status: err.status, message: err.message, call_index: pos.calls },
          },
        ]);
        await engine.events.append(tx, [
          {
            name: 'trace',
            session_id: run.session_id,
            run_id: run.run_id,
            data: {
              trace: {
                kind: err.retryable && pos.consecutiveFailures < MAX_RETRIES ? 'model_retry' : 'model_error',
                session_id: run.session_id,
                run_id: run.run_id,
                status: err.status,
                message: err.message,
                attempt: pos.consecutiveFailures + 1,
              },
            },
          },
        ]);
      });
      if (!err.retryable || pos.consecutiveFailures >= MAX_RETRIES) {
        await engine.failRun(startRun.run_id, `model call failed: ${err.message}`);
        return;
      }
      const backoff = err.retryAfterMs ?? Math.min(5000, 200 * 2 ** pos.consecutiveFailures);
      await abortableSleep(backoff + Math.floor(Math.random() * 50), signal);
    }
  }
}

async function recordOutput(engine: Engine, tx: WriteTx, run: RunRow, text: string): Promise<void> {
  const request = JSON.parse(run.request) as StoredRunRequest;
  const record = {
    session_id: run.session_id,
    run_id: run.run_id,
    plugin: request.source_plugin,
    address: request.actor_id,
    content: text,
    parts: [{ type: 'text', text }],
    artifacts: [],
    source_kind: 'assistant_text',
  };
  await insertOutput(tx.db, run.session_id, run.run_id, tx.now, record);
  await engine.recordRunChange(tx, run, { type: 'output', output: record });
  await engine.events.append(tx, [
    { name: 'output', session_id: run.session_id, run_id: run.run_id, data: { output: record } },
  ]);
}

/**
 * Runs the pending tool calls of the last assistant message. Read-only tools run in parallel;
 * side-effecting ones one at a time, each with a durable "started" record before it runs.
 */
async function executeToolCalls(
  engine: Engine,
  run: RunRow,
  calls: ToolCall[],
  signal: AbortSignal,
): Promise<void> {
  const ctx = {
    run_id: run.run_id,
    session_id: run.session_id,
    workspace_root: engine.opts.workspaceRoot,
    signal,
  };
  const readOnly = calls.filter((c) => !engine.tools.get(c.name)?.side_effects);
  const mutating = calls.filter((c) => engine.tools.get(c.name)?.side_effects);
  const results = await Promise.all(
    readOnly.map(async (c) => ({ call: c, result: await engine.tools.execute(c, ctx) })),
  );
  await writeToolResults(engine, run, results);
  for (const call of mutating) {
    await whileRunning(engine, run.run_id, (tx) =>
      appendJournal(tx.db, run.session_id, run.run_id, tx.now, [
        {
          kind: 'tool_call_started',
          payload: { tool_call_id: call.id, name: call.name, arguments: call.arguments },
        },
      ]),
    );
    const result = await engine.tools.execute(call, ctx);
    await writeToolResults(engine, run, [{ call, result }]);
  }
}

async function writeToolResults(
  engine: Engine,
  run: RunRow,
  results: Array<{ call: ToolCall; result: { content: string; is_error: boolean } }>,
): Promise<void> {
  if (results.length === 0) return;
  await whileRunning(engine, run.run_id, (tx) =>
    appendJournal(
      tx.db,
      run.session_id,
      run.run_id,
      tx.now,
      results.map(({ call, result }) => ({
        kind: 'tool_result',
        payload: {
          tool_call_id: call.id,
          name: call.name,
          content: result.content,
          is_error: result.is_error,
        },
      })),
    ),
  );
}
