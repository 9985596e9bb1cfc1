// `runs` (alias `run`): submit, get, list, events, cancel, watch, wait.
import { type Command, Option } from 'commander';
import type { SubmitRunRequest } from '../sdk/types.ts';
import { type AttachmentFlags, attachmentOptions, attachmentsOf } from './attachment-flags.ts';
import { UsageError } from './errors.ts';
import { resolveModelFlags } from './model-selector.ts';
import { eventCursor, nonEmpty, positiveInt } from './parse.ts';
import { renderRun, renderRunEvents, renderRunList, runRoute } from './render.ts';
import { exitCodeForRun, pollRun, watchRun } from './run-watch.ts';
import { registerRunDebug } from './runs-debug.ts';
import type { CliRuntime } from './runtime.ts';

interface SubmitFlags extends AttachmentFlags {
  provider?: string;
  model?: string;
  idempotencyKey?: string;
  stdin?: boolean;
  wait?: boolean;
  watch?: boolean;
  pollIntervalMs: number;
}

async function messageText(
  rt: CliRuntime,
  content: string | undefined,
  fromStdin: boolean | undefined,
  hasFiles = false,
): Promise<string> {
  if (content !== undefined && fromStdin) {
    throw new UsageError('give the message either as an argument or with --stdin, not both');
  }
  if (fromStdin) {
    // Drop the newline a shell pipe or heredoc adds; keep everything else verbatim.
    const text = (await rt.io.readStdin()).replace(/\r?\n$/, '');
    if (!text.trim()) throw new UsageError('--stdin was given but standard input is empty');
    return text;
  }
  // Files alone are input enough: the message may then be empty.
  if (hasFiles && content === undefined) return '';
  if (content === undefined || !content.trim()) {
    throw new UsageError('nothing to send', 'give the message as an argument, or pipe it in with --stdin');
  }
  return content;
}

/**
 * TRACEPARENT (the OpenTelemetry convention for trace context in the environment): a traced
 * script's run continues its trace (docs/tracing.md). The daemon ignores an invalid value.
 */
export function traceparentFromEnv(): { traceparent?: string } {
  const v = process.env.TRACEPARENT?.trim();
  return v ? { traceparent: v } : {};
}

export function registerRuns(program: Command, rt: CliRuntime): void {
  const runs = program.command('runs').alias('run').description('submit, inspect, follow and cancel runs');

  attachmentOptions(runs.command('submit'))
    .description('queue a message as a detached run; the session is created if it does not exist')
    .argument('<session_id>', 'session to run in (created or reused)')
    .argument('[content]', 'the message; or use --stdin')
    .option('--provider <route>', 'route id for this run only (overrides the session route policy)')
    .option('--model <model>', 'model (or route-aware selector) for this run only')
    .option('--idempotency-key <key>', 'retrying with the same key returns the same run', nonEmpty)
    .option('--stdin', 'read the message from standard input')
    .option('--wait', 'wait until the run finishes, then print it')
    .option('--watch', "show every step from the run's first event until it finishes (like `runs watch`)")
    .option('--poll-interval-ms <ms>', 'poll interval for --wait', positiveInt, 500)
    .action(async (sessionId: string, content: string | undefined, given: SubmitFlags) => {
      const attachments = attachmentsOf(given);
      const text = await messageText(rt, content, given.stdin, attachments.length > 0);
      const client = rt.client();
      const flags = await resolveModelFlags(client, given);
      await client.createSession({ session_id: sessionId });
      const body: SubmitRunRequest = { content: text };
      if (attachments.length > 0) body.attachments = attachments;
      if (flags.provider) body.provider = flags.provider;
      if (flags.model) body.generation = { model: flags.model };
      const submit = () =>
        client.submitRun(sessionId, body, { idempotencyKey: flags.idempotencyKey, ...traceparentFromEnv() });
      if (flags.watch) {
        // Submitted once the session's stream listens: the run's first live frames are not missed.
        rt.exitCode = await watchRun(rt, { sessionId, submit });
        return;
      }
      const run = await submit();
      if (flags.wait) {
        const done = await pollRun(rt, run.run_id, flags.pollIntervalMs);
        if (!done) {
          rt.exitCode = 130;
          return;
        }
        rt.emit(done, renderRun);
        rt.exitCode = exitCodeForRun(done);
        return;
      }
      rt.emit(run, (r) => {
        const where = r.queued_position ? ` at queue position ${r.queued_position}` : '';
        const route = runRoute(r);
        return [
          `run ${r.run_id} ${r.status}${where} in session ${r.session_id}${route ? ` (route ${route})` : ''}`,
          `follow it with: kheish-daemon runs watch ${r.run_id}`,
        ];
      });
    });

  runs
    .command('get')
    .alias('show')
    .description('show one run: status, route, outputs, error')
    .argument('<run_id>')
    .action(async (runId: string) => {
      rt.emit(await rt.client().getRun(runId), renderRun);
    });

  runs
    .command('list')
    .description('list runs (legacy array; --page or --cursor for the paginated envelope)')
    .option('--session-id <id>', 'only runs of this session')
    .option('--page', 'return the paginated envelope')
    .option('--limit <n>', 'at most n runs (max 100)', positiveInt)
    .option('--cursor <cursor>', 'continue after this page cursor')
    .addOption(new Option('--order <order>', 'sort by submission time').choices(['asc', 'desc']))
    .option('--priority-active', 'unfinished runs first')
    .action(
      async (flags: {
        sessionId?: string;
        page?: boolean;
        limit?: number;
        cursor?: string;
        order?: 'asc' | 'desc';
        priorityActive?: boolean;
      }) => {
        const result = await rt.client().listRuns({
          session_id: flags.sessionId,
          page: flags.page,
          limit: flags.limit,
          cursor: flags.cursor,
          order: flags.order,
          priority_active: flags.priorityActive,
        });
        rt.emit(result, renderRunList);
      },
    );

  runs
    .command('events')
    .description('the persisted event log of one run')
    .argument('<run_id>')
    .action(async (runId: string) => {
      rt.emit(await rt.client().runEvents(runId), (entries) => renderRunEvents(entries));
    });

  runs
    .command('cancel')
    .description('cancel a queued or active run')
    .argument('<run_id>')
    .action(async (runId: string) => {
      rt.emit(await rt.client().cancelRun(runId), (r) => [
        r.status === 'cancelled' ? `run ${r.run_id} cancelled` : `run ${r.run_id} is ${r.status}`,
      ]);
    });

  runs
    .command('watch')
    .aliases(['stream', 'follow'])
    .description(
      'replay a run from its first event, then follow it live until it finishes (exit 0 when it completed, 1 otherwise)',
    )
    .argument('<run_id>')
    .option('--cursor <n>', "start after this event id instead of at the run's first event", eventCursor)
    .action(async (runId: string, flags: { cursor?: string }) => {
      rt.exitCode = await watchRun(rt, { runId }, { cursor: flags.cursor });
    });

  runs
    .command('wait')
    .description('wait until a run finishes, then print it (exit 0 when it completed, 1 otherwise)')
    .argument('<run_id>')
    .option('--poll-interval-ms <ms>', 'poll interval', positiveInt, 500)
    .action(async (runId: string, flags: { pollIntervalMs: number }) => {
      const done = await pollRun(rt, runId, flags.pollIntervalMs);
      if (!done) {
        rt.exitCode = 130;
        return;
      }
      rt.emit(done, renderRun);
      rt.exitCode = exitCodeForRun(done);
    });
  registerRunDebug(runs, rt);
}
