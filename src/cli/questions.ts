// `questions` (alias `question`): structured questions a run asked the operator (api-core §4.4):
// list, show, answer (from JSON or interactively on the terminal), cancel.
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import type {
  ListResult,
  PendingQuestionView,
  QuestionAnswer,
  ResolveUserQuestionRequest,
  UserQuestion,
  UserQuestionResolution,
} from '../sdk/types.ts';
import { itemsOf } from '../sdk/types.ts';
import { jsonInput, notPending, sessionState, waitAndReport } from './approvals.ts';
import { UsageError } from './errors.ts';
import { keyValues, obj, oneLine, str, table, time } from './format.ts';
import { nonEmpty, positiveInt } from './parse.ts';
import { pageFooter } from './render.ts';
import type { CliIo, CliRuntime } from './runtime.ts';

// ------------------------------------------------------------------------------ rendering

function firstQuestion(q: PendingQuestionView): string {
  const list = q.request.questions ?? [];
  const first = list[0];
  if (!first) return '-';
  const more = list.length > 1 ? ` (+${list.length - 1} more)` : '';
  return `${oneLine(first.question, 60)}${more}`;
}

export function renderQuestionList(result: ListResult<PendingQuestionView>): string[] {
  const items = itemsOf(result);
  const lines =
    items.length === 0
      ? ['no pending questions']
      : table(
          ['REQUEST', 'SESSION', 'RUN', 'KIND', 'ASKED', 'QUESTION'],
          items.map((q) => [
            q.request.id,
            q.session_id,
            q.run_id,
            str(q.run_kind) ?? '-',
            time(q.request.created_at_ms) ?? '-',
            firstQuestion(q),
          ]),
        );
  return [...lines, ...pageFooter(result)];
}

/** One question with its options numbered from 1, as the interactive prompt shows it. */
export function questionLines(q: UserQuestion, n?: string): string[] {
  const title = `${n ? `${n} ` : ''}${q.header ? `[${q.header}] ` : ''}${q.question}`;
  const how = q.multi_select ? 'choose one or more (e.g. 1,3)' : 'choose one';
  const lines = [title];
  (q.options ?? []).forEach((o, i) => {
    const desc = o.description ? ` - ${o.description}` : '';
    lines.push(`  ${i + 1}) ${o.label}${desc} (${o.id})`);
  });
  lines.push(
    `  (question ${q.id}; ${(q.options ?? []).length ? `${how}, or type a free answer` : 'type an answer'})`,
  );
  return lines;
}

export function renderQuestion(q: PendingQuestionView): string[] {
  const lines = keyValues([
    ['question request', q.request.id],
    ['session', q.session_id],
    ['run', q.run_id],
    ['kind', str(q.run_kind)],
    ['agent', str(q.agent_id)],
    ['asked', time(q.request.created_at_ms)],
    ['expires', time(q.request.expires_at_ms)],
  ]);
  const list = q.request.questions ?? [];
  for (const [i, item] of list.entries()) lines.push('', ...questionLines(item, `${i + 1}/${list.length}`));
  lines.push(
    '',
    `answer with: kheish-daemon questions answer ${q.request.id} --interactive`,
    `decline with: kheish-daemon questions answer ${q.request.id} --declined`,
  );
  return lines;
}

// --------------------------------------------------------------------------- interactive input

export interface LineSource {
  /** The next line without its newline; undefined at end of input. */
  readLine(): Promise<string | undefined>;
  close(): void;
  /** Whether the text typed is already on screen (a terminal echoes it); otherwise we print it. */
  echoed: boolean;
}

/**
 * Lines from the operator: an io's own `readLine` when it has one (tests, embedders), a readline
 * on a real terminal (answers are typed one by one after each prompt), else standard input read
 * whole and split (piped answers).
 */
export function lineSource(io: CliIo): LineSource {
  const own = (io as CliIo & { readLine?: () => Promise<string | undefined> }).readLine;
  if (own) return { readLine: () => own.call(io), close: () => {}, echoed: false };
  if (process.stdin.isTTY) {
    const rl = createInterface({ input: process.stdin, terminal: false });
    const it = rl[Symbol.asyncIterator]();
    return {
      readLine: async () => {
        const next = await it.next();
        return next.done ? undefined : next.value;
      },
      close: () => rl.close(),
      echoed: true,
    };
  }
  let lines: string[] | undefined;
  return {
    readLine: async () => {
      if (!lines) {
        lines = (await io.readStdin()).split(/\r?\n/);
        if (lines.at(-1) === '') lines.pop();
      }
      return lines.shift();
    },
    close: () => {},
    echoed: false,
  };
}

/** Numbers (1-based), option ids or labels select options; anything else is a free answer. */
export function parseChoice(q: UserQuestion, line: string): QuestionAnswer | string {
  const text = line.trim();
  if (!text) return 'type a number, an option id, or an answer';
  const options = q.options ?? [];
  const tokens = text.split(/[\s,]+/).filter(Boolean);
  let picked: string[] | undefined;
  if (options.length > 0 && tokens.every((t) => /^\d+$/.test(t))) {
    const bad = tokens.find((t) => Number(t) < 1 || Number(t) > options.length);
    if (bad) return `there is no option ${bad}; choose 1-${options.length}`;
    picked = tokens.map((t) => options[Number(t) - 1]!.id);
  } else {
    const byText = (t: string) =>
      options.find((o) => o.id === t) ?? options.find((o) => o.label.toLowerCase() === t.toLowerCase());
    const whole = byText(text);
    if (whole) picked = [whole.id];
    else if (tokens.length > 1 && tokens.every((t) => byText(t))) picked = tokens.map((t) => byText(t)!.id);
  }
  if (!picked) return { question_id: q.id, selected_option_ids: [], freeform_answer: text };
  const unique = [...new Set(picked)];
  if (!q.multi_select && unique.length > 1) return 'this question takes one option';
  return { question_id: q.id, selected_option_ids: unique };
}

async function askInteractively(rt: CliRuntime, q: PendingQuestionView): Promise<QuestionAnswer[]> {
  // In json mode stdout carries only the result document; the dialogue goes to stderr.
  const say = (...lines: string[]) => (rt.json ? rt.note(...lines) : rt.print(...lines));
  const source = lineSource(rt.io);
  const answers: QuestionAnswer[] = [];
  try {
    const list = q.request.questions ?? [];
    for (const [i, item] of list.entries()) {
      say(...questionLines(item, list.length > 1 ? `${i + 1}/${list.length}` : undefined));
      for (;;) {
        const prompt = (text: string) => rt.io[rt.json ? 'stderr' : 'stdout'](text);
        prompt('> ');
        const line = await source.readLine();
        if (!source.echoed) prompt(`${line ?? ''}\n`);
        if (line === undefined)
          throw new UsageError(`input ended before question ${item.id} was answered`, 'nothing was sent');
        const parsed = parseChoice(item, line);
        if (typeof parsed !== 'string') {
          answers.push(parsed);
          break;
        }
        say(parsed);
      }
    }
  } finally {
    source.close();
  }
  return answers;
}

/** `--answers-json` / `--answers-file`: the wire answers array, or `{"answers": [...]}`. */
function normalizeAnswers(value: unknown): QuestionAnswer[] {
  const list = Array.isArray(value) ? value : obj(value)?.answers;
  if (!Array.isArray(list))
    throw new UsageError(
      'answers must be a JSON array like [{"question_id":"q1","selected_option_ids":["a"]}]',
    );
  return list.map((a, i) => {
    const o = obj(a);
    if (!o || typeof o.question_id !== 'string') throw new UsageError(`answer ${i + 1} has no "question_id"`);
    const ids = o.selected_option_ids ?? [];
    if (!Array.isArray(ids) || ids.some((x) => typeof x !== 'string'))
      throw new UsageError(`answer ${i + 1}: "selected_option_ids" must be a list of option ids`);
    const answer: QuestionAnswer = { question_id: o.question_id, selected_option_ids: ids as string[] };
    if (typeof o.freeform_answer === 'string') answer.freeform_answer = o.freeform_answer;
    return answer;
  });
}

// ------------------------------------------------------------------------------- commands

async function findQuestion(
  rt: CliRuntime,
  requestId: string,
  sessionId: string | undefined,
): Promise<PendingQuestionView | undefined> {
  const all = itemsOf(await rt.client().listQuestions({ session_id: sessionId }));
  return all.find((q) => q.request.id === requestId);
}

const LIST_HINT = 'list pending questions with `kheish-daemon questions list`';

interface AnswerFlags {
  sessionId?: string;
  runId?: string;
  answersJson?: string;
  answersFile?: string;
  interactive?: boolean;
  declined?: boolean;
  justification?: string;
  idempotencyKey?: string;
  wait?: boolean;
  pollIntervalMs: number;
}

async function answer(rt: CliRuntime, requestId: string, flags: AnswerFlags): Promise<void> {
  const sources = [
    flags.answersJson !== undefined,
    flags.answersFile !== undefined,
    !!flags.interactive,
    !!flags.declined,
  ].filter(Boolean).length;
  if (sources === 0)
    throw new UsageError(
      'no answer given',
      'use --interactive, --answers-json, --answers-file, or --declined',
    );
  if (sources > 1)
    throw new UsageError('give exactly one of --interactive, --answers-json, --answers-file, --declined');
  const fromJson = await jsonInput(rt, flags.answersJson, flags.answersFile, 'answers');
  const found =
    flags.runId && !flags.interactive ? undefined : await findQuestion(rt, requestId, flags.sessionId);
  if (!found && (flags.interactive || (!flags.runId && !flags.sessionId)))
    throw notPending('question', requestId, LIST_HINT);
  const resolution: UserQuestionResolution = {
    request_id: requestId,
    answers: flags.declined
      ? []
      : flags.interactive
        ? await askInteractively(rt, found!)
        : normalizeAnswers(fromJson),
    declined: !!flags.declined,
  };
  if (flags.justification !== undefined) resolution.justification = flags.justification;
  const body: ResolveUserQuestionRequest = { resolution };
  if (flags.idempotencyKey) body.idempotency_key = flags.idempotencyKey;
  const client = rt.client();
  const verb = flags.declined ? 'declined' : 'answered';
  const runId = flags.runId ?? found?.run_id;
  if (runId) {
    const run = await client.resolveRunQuestion(runId, body);
    if (flags.wait) return waitAndReport(rt, run.run_id, flags.pollIntervalMs);
    rt.emit(run, (r) => [
      `${verb} question ${requestId}; run ${r.run_id} is ${r.status}`,
      `follow it with: kheish-daemon runs watch ${r.run_id}`,
    ]);
    return;
  }
  // Not pending any more: the session route replays an identical earlier answer or says why not.
  const session = await client.resolveSessionQuestion(flags.sessionId!, body);
  const state = sessionState(session);
  if (flags.wait && state.activeRunId) return waitAndReport(rt, state.activeRunId, flags.pollIntervalMs);
  rt.emit(session, (s) => [`${verb} question ${requestId}; session ${s.session_id} is ${state.status}`]);
}

export function registerQuestions(program: Command, rt: CliRuntime): void {
  const questions = program
    .command('questions')
    .alias('question')
    .description('structured questions runs asked the operator: list, show, answer, cancel');

  questions
    .command('list')
    .description('pending questions (legacy array; --page or --cursor for the paginated envelope)')
    .option('--session-id <id>', 'only this session')
    .option('--page', 'return the paginated envelope')
    .option('--limit <n>', 'at most n questions (max 100)', positiveInt)
    .option('--cursor <cursor>', 'continue after this page cursor')
    .action(async (flags: { sessionId?: string; page?: boolean; limit?: number; cursor?: string }) => {
      const result = await rt.client().listQuestions({
        session_id: flags.sessionId,
        page: flags.page,
        limit: flags.limit,
        cursor: flags.cursor,
      });
      rt.emit(result, renderQuestionList);
    });

  questions
    .command('show')
    .description('one pending question request with its numbered options')
    .argument('<request_id>')
    .option('--session-id <id>', 'look only in this session')
    .action(async (requestId: string, flags: { sessionId?: string }) => {
      const found = await findQuestion(rt, requestId, flags.sessionId);
      if (!found) throw notPending('question', requestId, LIST_HINT);
      rt.emit(found, renderQuestion);
    });

  questions
    .command('answer')
    .description('answer every question of a request at once (or decline it)')
    .argument('<request_id>')
    .option('--session-id <id>', 'the session that asked')
    .option('--run-id <id>', 'the run that waits (skips the lookup)')
    .option('--answers-json <json>', 'answers: [{"question_id","selected_option_ids":[],"freeform_answer"?}]')
    .option('--answers-file <path>', 'same, from a file (- = standard input)')
    .option('--interactive', 'prompt for each question on the terminal')
    .option('--declined', 'decline to answer')
    .option('--justification <text>', 'recorded with the answer (audit)')
    .option('--idempotency-key <key>', 'retrying with the same key is a no-op', nonEmpty)
    .option('--wait', 'wait until the run ends or waits again; exit 0 only when it completed')
    .option('--poll-interval-ms <ms>', 'poll interval for --wait', positiveInt, 200)
    .action((requestId: string, flags: AnswerFlags) => answer(rt, requestId, flags));

  questions
    .command('cancel')
    .description('cancel the run waiting on this question')
    .argument('<request_id>')
    .option('--session-id <id>', 'the session that asked')
    .option('--run-id <id>', 'the run that waits (required to retry with --idempotency-key)')
    .option('--justification <text>', 'recorded with the cancellation')
    .option('--idempotency-key <key>', 'retrying with the same key is a no-op', nonEmpty)
    .action(
      async (
        requestId: string,
        flags: { sessionId?: string; runId?: string; justification?: string; idempotencyKey?: string },
      ) => {
        if (flags.idempotencyKey && !flags.runId)
          throw new UsageError(
            '--idempotency-key needs --run-id',
            'a retried cancel no longer finds the question pending, so the run must be named',
          );
        const runId = flags.runId ?? (await findQuestion(rt, requestId, flags.sessionId))?.run_id;
        if (!runId) throw notPending('question', requestId, LIST_HINT);
        const body: { justification?: string; idempotency_key?: string } = {};
        if (flags.justification !== undefined) body.justification = flags.justification;
        if (flags.idempotencyKey) body.idempotency_key = flags.idempotencyKey;
        const run = await rt.client().cancelQuestion(runId, requestId, body);
        rt.emit(run, (r) => [`cancelled question ${requestId}; run ${r.run_id} is ${r.status}`]);
      },
    );
}
