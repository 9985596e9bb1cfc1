// `approvals` (alias `approval`): list, show and resolve tool calls waiting for an operator
// (ops-runtime §2.10, api-core §4.3). Decisions go to the exact run that waits
// (POST /v1/runs/{run_id}/approvals); batches are atomic per run, never across runs.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  type ApprovalResolution,
  isTerminalRunStatus,
  type JsonObject,
  type PendingApprovalView,
  type RunView,
} from '../sdk/types.ts';
import { EXIT, errorLines, exitCodeFor, UsageError } from './errors.ts';
import { sleep } from './follow.ts';
import {
  arr,
  errorText,
  indent,
  keyValues,
  obj,
  oneLine,
  plural,
  scalar,
  str,
  table,
  time,
} from './format.ts';
import { nonEmpty, positiveInt } from './parse.ts';
import { outputBlocks, runDuration } from './render.ts';
import type { CliRuntime } from './runtime.ts';

// ------------------------------------------------------------------ helpers shared with questions

/** A JSON document from `--x-json TEXT` or `--x-file PATH` (`-` = standard input); undefined if neither. */
export async function jsonInput(
  rt: CliRuntime,
  text: string | undefined,
  file: string | undefined,
  flag: string,
): Promise<unknown> {
  if (text !== undefined && file !== undefined)
    throw new UsageError(`give either --${flag}-json or --${flag}-file, not both`);
  if (text === undefined && file === undefined) return undefined;
  let source = text;
  if (file !== undefined) {
    try {
      source = file === '-' ? await rt.io.readStdin() : readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new UsageError(`cannot read --${flag}-file ${file} (${code})`);
    }
  }
  try {
    return JSON.parse(source!);
  } catch (err) {
    throw new UsageError(
      `--${flag}-${text === undefined ? 'file' : 'json'} is not valid JSON: ${(err as Error).message}`,
    );
  }
}

/** `--wait`: polls the run until it ends or waits for the operator again; undefined on Ctrl-C. */
export async function settleRun(
  rt: CliRuntime,
  runId: string,
  intervalMs: number,
): Promise<RunView | undefined> {
  const client = rt.client();
  const interrupt = new AbortController();
  const off = rt.io.onInterrupt(() => interrupt.abort());
  try {
    for (;;) {
      const run = await client.getRun(runId);
      // A resolution moves the run out of waiting before the POST answers, so any waiting state
      // seen here is a new suspension.
      if (isTerminalRunStatus(run.status) || run.status.startsWith('waiting_')) return run;
      await sleep(intervalMs, interrupt.signal);
      if (interrupt.signal.aborted) {
        rt.note(`stopped waiting; run ${runId} is still ${run.status} in the daemon`);
        return undefined;
      }
    }
  } finally {
    off();
  }
}

/** What an operator needs after `--wait`: the answer, the error, or the next thing to decide. */
export function renderSettled(run: RunView): string[] {
  if (run.status === 'completed') {
    const took = runDuration(run);
    const outputs = outputBlocks(run.outputs).map((b) => b.replace(/^ {2}/gm, ''));
    return [...outputs, `run ${run.run_id} completed${took ? ` in ${took}` : ''}`];
  }
  if (!run.status.startsWith('waiting_')) {
    const error = errorText(run.error);
    return [`run ${run.run_id} ${run.status}${error ? `: ${error}` : ''}`];
  }
  const lines = [`run ${run.run_id} is ${run.status} again`];
  for (const a of arr(run.pending_approvals)) {
    const req = obj(a) ?? {};
    lines.push(
      `  approval ${scalar(req.id)}: ${scalar(req.tool_name)} ${scalar(req.input, 100)}`,
      `  allow with: kheish-daemon approvals allow ${run.session_id} ${scalar(req.id)}`,
    );
  }
  for (const q of arr(run.pending_questions)) {
    const id = scalar(obj(q)?.id);
    lines.push(`  question ${id}`, `  answer with: kheish-daemon questions answer ${id} --interactive`);
  }
  return lines;
}

/** Prints the settled run (or the interruption) and sets the exit code: 0 only when completed. */
export async function waitAndReport(rt: CliRuntime, runId: string, intervalMs: number): Promise<void> {
  const done = await settleRun(rt, runId, intervalMs);
  if (!done) {
    rt.exitCode = EXIT.interrupted;
    return;
  }
  rt.emit(done, renderSettled);
  rt.exitCode = done.status === 'completed' ? EXIT.ok : EXIT.failure;
}

/** The session route answers with a SessionView: its status and active run sit in `snapshot`. */
export function sessionState(view: JsonObject): { status: string; activeRunId?: string } {
  const snap = obj(view.snapshot);
  return {
    status: str(snap?.status) ?? str(view.status) ?? 'unknown',
    activeRunId: str(snap?.active_run_id) ?? str(view.active_run_id),
  };
}

export const notPending = (what: string, id: string, hint: string): UsageError =>
  new UsageError(`${what} ${id} is not pending`, hint, EXIT.notFound);

// ------------------------------------------------------------------------------ rendering

const inputLine = (input: unknown): string =>
  input === undefined ? '-' : oneLine(JSON.stringify(input), 60);

export function renderApprovalList(items: PendingApprovalView[]): string[] {
  if (items.length === 0) return ['no pending approvals'];
  return table(
    ['REQUEST', 'SESSION', 'RUN', 'TOOL', 'REASON', 'INPUT'],
    items.map((a) => [
      a.request.id,
      a.session_id,
      a.run_id,
      a.request.tool_name,
      oneLine(str(a.request.reason) ?? '-', 50),
      inputLine(a.request.input),
    ]),
  );
}

export function renderApproval(a: PendingApprovalView): string[] {
  const r = a.request;
  return [
    ...keyValues([
      ['approval', r.id],
      ['session', a.session_id],
      ['run', a.run_id],
      ['tool', r.tool_name],
      ['tool call', str(r.tool_call_id)],
      ['scope', str(r.scope)],
      ['reason', str(r.reason)],
      ['requested', time(a.created_at_ms)],
    ]),
    'input:',
    indent(JSON.stringify(r.input ?? null, null, 2)),
    `allow with: kheish-daemon approvals allow ${a.session_id} ${r.id}`,
    `deny with:  kheish-daemon approvals deny ${a.session_id} ${r.id} --reason "..."`,
  ];
}

function afterDecision(verb: string, ids: string[], run: RunView): string[] {
  const what = ids.length === 1 ? `approval ${ids[0]}` : plural(ids.length, 'approval');
  const left = arr(run.pending_approval_ids ?? run.pending_approvals).length;
  const state =
    run.status === 'waiting_for_approval' && left > 0
      ? `still waits for ${plural(left, 'approval')}`
      : `is ${run.status}`;
  return [
    `${verb} ${what}; run ${run.run_id} ${state}`,
    `follow it with: kheish-daemon runs watch ${run.run_id}`,
  ];
}

// ------------------------------------------------------------------------------- commands

interface DecideFlags {
  updatedInputJson?: string;
  updatedInputFile?: string;
  justification?: string;
  reason?: string;
  rememberSession?: boolean;
  idempotencyKey?: string;
  wait?: boolean;
  pollIntervalMs: number;
}

async function decide(
  rt: CliRuntime,
  sessionId: string,
  requestId: string,
  behavior: 'allow' | 'deny',
  flags: DecideFlags,
): Promise<void> {
  const resolution: ApprovalResolution = { request_id: requestId, behavior };
  const updated = await jsonInput(rt, flags.updatedInputJson, flags.updatedInputFile, 'updated-input');
  if (updated !== undefined) {
    if (!obj(updated)) throw new UsageError('the updated input must be a JSON object (the tool arguments)');
    resolution.updated_input = updated as JsonObject;
  }
  if (flags.justification !== undefined) resolution.justification = flags.justification;
  if (flags.reason !== undefined) resolution.reason = flags.reason;
  if (flags.rememberSession) resolution.remember = 'session';
  const body = {
    resolutions: [resolution],
    ...(flags.idempotencyKey ? { idempotency_key: flags.idempotencyKey } : {}),
  };
  const verb = behavior === 'allow' ? 'allowed' : 'denied';
  const client = rt.client();
  const pending = (await client.listApprovals({ session_id: sessionId })).find(
    (a) => a.request.id === requestId,
  );
  if (pending) {
    const run = await client.resolveRunApprovals(pending.run_id, body);
    if (flags.wait) return waitAndReport(rt, run.run_id, flags.pollIntervalMs);
    rt.emit(run, (r) => afterDecision(verb, [requestId], r));
    return;
  }
  // Not pending any more: the session route replays an identical earlier decision (a retry) or
  // says precisely why it cannot apply (unknown id, nothing waiting).
  const session = await client.resolveSessionApprovals(sessionId, body);
  const state = sessionState(session);
  if (flags.wait && state.activeRunId) return waitAndReport(rt, state.activeRunId, flags.pollIntervalMs);
  rt.emit(session, (s) => [`${verb} approval ${requestId}; session ${s.session_id} is ${state.status}`]);
}

interface BatchResult {
  run_id: string;
  session_id: string;
  request_ids: string[];
  run?: RunView;
  error?: { exit_code: number; message: string };
}

async function decideAll(
  rt: CliRuntime,
  behavior: 'allow' | 'deny',
  flags: {
    sessionId?: string;
    justification?: string;
    reason?: string;
    idempotencyKey?: string;
    wait?: boolean;
    pollIntervalMs: number;
  },
): Promise<void> {
  const client = rt.client();
  const byRun = new Map<string, PendingApprovalView[]>();
  for (const a of await client.listApprovals({ session_id: flags.sessionId })) {
    byRun.set(a.run_id, [...(byRun.get(a.run_id) ?? []), a]);
  }
  const results: BatchResult[] = [];
  for (const [runId, items] of byRun) {
    const resolutions = items.map((a): ApprovalResolution => {
      const r: ApprovalResolution = { request_id: a.request.id, behavior };
      if (flags.justification !== undefined) r.justification = flags.justification;
      if (flags.reason !== undefined) r.reason = flags.reason;
      return r;
    });
    // One key per run batch, so a retry of the whole command replays each batch on its own.
    const key = flags.idempotencyKey ? { idempotency_key: `${flags.idempotencyKey}:${runId}` } : {};
    const result: BatchResult = {
      run_id: runId,
      session_id: items[0]!.session_id,
      request_ids: resolutions.map((r) => r.request_id),
    };
    try {
      result.run = await client.resolveRunApprovals(runId, { resolutions, ...key });
    } catch (err) {
      // Atomic per run, not across runs: report this one and carry on with the others.
      result.error = { exit_code: exitCodeFor(err), message: errorLines(err).join('\n') };
      rt.note(`run ${runId}: ${errorLines(err).join('\n')}`);
    }
    results.push(result);
  }
  if (flags.wait) {
    for (const r of results) {
      if (!r.run) continue;
      const done = await settleRun(rt, r.run_id, flags.pollIntervalMs);
      if (!done) {
        rt.exitCode = EXIT.interrupted;
        return;
      }
      r.run = done;
    }
  }
  const verb = behavior === 'allow' ? 'allowed' : 'denied';
  rt.emit(results, (list) => {
    if (list.length === 0) return ['no pending approvals'];
    return list.map((r) => {
      const tools = (byRun.get(r.run_id) ?? []).map((a) => a.request.tool_name).join(', ');
      if (!r.run) return `run ${r.run_id}: nothing applied (${r.error?.message.split('\n')[0]})`;
      const tail = flags.wait ? renderSettled(r.run).at(-1) : `run is ${r.run.status}`;
      return `run ${r.run_id} (session ${r.session_id}): ${verb} ${plural(r.request_ids.length, 'approval')} (${tools}); ${tail}`;
    });
  });
  const failed = results.find((r) => r.error);
  if (failed) rt.exitCode = failed.error!.exit_code;
  else if (flags.wait && results.some((r) => r.run?.status !== 'completed')) rt.exitCode = EXIT.failure;
}

export function registerApprovals(program: Command, rt: CliRuntime): void {
  const approvals = program
    .command('approvals')
    .alias('approval')
    .description('tool calls waiting for an operator decision: list, show, allow, deny');

  approvals
    .command('list')
    .description('pending approvals, oldest first')
    .option('--session-id <id>', 'only this session')
    .action(async (flags: { sessionId?: string }) => {
      rt.emit(await rt.client().listApprovals({ session_id: flags.sessionId }), renderApprovalList);
    });

  approvals
    .command('show')
    .description('one pending approval with the full tool input')
    .argument('<request_id>')
    .option('--session-id <id>', 'look only in this session')
    .action(async (requestId: string, flags: { sessionId?: string }) => {
      const all = await rt.client().listApprovals({ session_id: flags.sessionId });
      const found = all.find((a) => a.request.id === requestId);
      if (!found)
        throw notPending('approval', requestId, 'list pending approvals with `kheish-daemon approvals list`');
      rt.emit(found, renderApproval);
    });

  const decideCommand = (name: string, behavior: 'allow' | 'deny') => {
    const cmd = approvals
      .command(name)
      .description(
        behavior === 'allow' ? 'let the tool call run' : 'refuse the tool call; the model is told why',
      )
      .argument('<session_id>')
      .argument('<request_id>');
    if (behavior === 'allow')
      cmd
        .option('--updated-input-json <json>', 'run the tool with these arguments instead (a JSON object)')
        .option('--updated-input-file <path>', 'same, from a file (- = standard input)')
        .option('--remember-session', 'also allow this tool for the rest of the session');
    else cmd.option('--reason <text>', 'why (shown to the model)');
    cmd
      .option('--justification <text>', 'recorded with the decision (audit)')
      .option('--idempotency-key <key>', 'retrying with the same key is a no-op', nonEmpty)
      .option('--wait', 'wait until the run ends or waits again; exit 0 only when it completed')
      .option('--poll-interval-ms <ms>', 'poll interval for --wait', positiveInt, 500)
      .action((sessionId: string, requestId: string, flags: DecideFlags) =>
        decide(rt, sessionId, requestId, behavior, flags),
      );
  };
  decideCommand('allow', 'allow');
  decideCommand('deny', 'deny');

  const allCommand = (name: string, behavior: 'allow' | 'deny') => {
    const cmd = approvals
      .command(name)
      .description(`${behavior} every pending approval: one atomic batch per run`)
      .option('--session-id <id>', 'only this session');
    if (behavior === 'allow') cmd.alias('approve-all');
    else cmd.option('--reason <text>', 'why (shown to the model)');
    cmd
      .option('--justification <text>', 'recorded with each decision (audit)')
      .option('--idempotency-key <key>', 'base key; each run batch gets `<key>:<run_id>`', nonEmpty)
      .option('--wait', 'wait until every run ends or waits again')
      .option('--poll-interval-ms <ms>', 'poll interval for --wait', positiveInt, 500)
      .action((flags) => decideAll(rt, behavior, flags));
  };
  allCommand('allow-all', 'allow');
  allCommand('deny-all', 'deny');
}
