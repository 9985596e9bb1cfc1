// `events` (daemon-wide stream) and the shared "follow until Ctrl-C" loop that `sessions stream`
// uses too. Pretty mode prints one line per frame; json mode prints each frame as a JSON line.
import type { Command } from 'commander';
import type { SseFrame } from '../sdk/types.ts';
import { follow, type OpenArgs } from './follow.ts';
import { clock, errorText, obj, oneLine, scalar, str } from './format.ts';
import { eventCursor } from './parse.ts';
import type { CliRuntime } from './runtime.ts';

/** One readable line per frame, or undefined for frames not worth a line in pretty mode. */
export function frameLine(frame: SseFrame, now = new Date()): string | undefined {
  const data = obj(frame.data) ?? {};
  const at = clock(now);
  const line = (text: string) => `${at}  ${frame.event.padEnd(21)} ${text}`;
  switch (frame.event) {
    case 'heartbeat':
      return undefined;
    case 'run_updated': {
      const run = obj(data.run) ?? {};
      const error = errorText(run.error);
      return line(
        `${scalar(run.run_id)} (session ${scalar(run.session_id)}): ${scalar(run.status)}${error ? `: ${error}` : ''}`,
      );
    }
    case 'output': {
      const output = obj(data.output) ?? {};
      return line(`${scalar(output.run_id)}: ${oneLine(str(output.content) ?? '', 120)}`);
    }
    case 'trace': {
      const trace = obj(data.trace) ?? {};
      // Token deltas would flood the terminal; the output frame carries the full text.
      if (trace.kind === 'assistant_text_delta') return undefined;
      const message = str(trace.message);
      const scope = str(trace.run_id) ?? str(trace.session_id);
      const text = `${scalar(trace.kind)}${message ? `: ${oneLine(message, 100)}` : ''}`;
      return line(scope ? `${scope}: ${text}` : text);
    }
    case 'session_state_changed':
      return line(
        `session ${scalar(data.session_id)}: ${scalar(data.status)} (approvals ${scalar(data.pending_approvals)}, questions ${scalar(data.pending_questions)})`,
      );
    case 'interrupted':
      return line(`session ${scalar(data.session_id)} interrupted`);
    case 'session_goal_updated': {
      const goal = obj(data.goal);
      return line(
        `session ${scalar(data.session_id)}: goal ${goal ? scalar(goal.objective ?? goal.status, 80) : 'cleared'}`,
      );
    }
    case 'session_snapshot':
      return line(`session ${scalar(data.session_id)}`);
    case 'runtime_updated':
      return line(`revision ${scalar(obj(data.runtime)?.revision)}`);
    case 'stream_gap':
      return line(
        `missed ${scalar(data.skipped)}${data.skipped_is_estimate ? ' (estimated)' : ''} events: ${scalar(data.reason)}`,
      );
    default: {
      const { type: _type, ...rest } = data;
      return line(scalar(rest, 120));
    }
  }
}

/** Prints frames until Ctrl-C (exit 0) or a final error (thrown). */
export async function followFrames(
  rt: CliRuntime,
  open: (args: OpenArgs) => AsyncIterable<SseFrame>,
  cursor: string | undefined,
): Promise<void> {
  const interrupt = new AbortController();
  const off = rt.io.onInterrupt(() => interrupt.abort());
  try {
    await follow({
      open,
      cursor,
      signal: interrupt.signal,
      // Following is open-ended: keep trying for a long time, since the daemon may be restarting.
      maxRetries: 60,
      onFrame: (frame) => {
        if (rt.json) rt.jsonFrame(frame);
        else {
          const text = frameLine(frame);
          if (text !== undefined) rt.print(text);
        }
        return undefined;
      },
      note: (line) => rt.note(line),
    });
  } finally {
    off();
  }
}

interface StreamFlags {
  sessionId?: string;
  runId?: string;
  cursor?: string;
}

export function registerEvents(program: Command, rt: CliRuntime): void {
  const events = program.command('events').description('follow the daemon-wide event stream until Ctrl-C');
  events
    .command('stream', { isDefault: true })
    .aliases(['watch', 'follow'])
    .description('follow /v1/events/stream (the default `events` command)')
    .option('--session-id <id>', 'only events of this session')
    .option('--run-id <id>', 'only trace, output and run_updated events of this run')
    .option('--cursor <n>', 'replay events after this event id first', eventCursor)
    .action(async (flags: StreamFlags) => {
      const client = rt.client();
      await followFrames(
        rt,
        ({ cursor, signal, onOpen }) =>
          client.streamGlobal(
            { session_id: flags.sessionId, run_id: flags.runId, cursor },
            { signal, onOpen },
          ),
        flags.cursor,
      );
    });
}
