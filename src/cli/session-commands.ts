// `sessions input`, `sessions set-route`, `sessions set-capability-scope` and
// `sessions set-credential-scope` (ops-runtime §2.10): the session commands the published Kheish
// docs use. Each is one call of the /v1 API through the SDK.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { JsonObject, SessionView, SubmitRunRequest } from '../sdk/types.ts';
import { jsonInput } from './approvals.ts';
import { type AttachmentFlags, attachmentOptions, attachmentsOf } from './attachment-flags.ts';
import { UsageError } from './errors.ts';
import { oneLine } from './format.ts';
import { type GenerationFlags, generationOf, generationOptions } from './generation-flags.ts';
import { resolveModelFlags } from './model-selector.ts';
import { nonEmpty, positiveInt } from './parse.ts';
import { renderRun, renderSession } from './render.ts';
import { exitCodeForRun, pollRun } from './run-watch.ts';
import { traceparentFromEnv } from './runs.ts';
import type { CliRuntime } from './runtime.ts';

interface InputFlags extends GenerationFlags, AttachmentFlags {
  contentFile?: string;
  stdin?: boolean;
  idempotencyKey?: string;
  requireWorkspaceFilePath?: string[];
  wait?: boolean;
  pollIntervalMs: number;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

async function inputText(
  rt: CliRuntime,
  content: string | undefined,
  f: InputFlags,
  hasFiles = false,
): Promise<string> {
  const given = [content !== undefined, f.contentFile !== undefined, f.stdin === true].filter(Boolean);
  if (given.length > 1)
    throw new UsageError('give the message once: as an argument, --content-file or --stdin');
  let text = content;
  if (f.stdin) text = (await rt.io.readStdin()).replace(/\r?\n$/, '');
  else if (f.contentFile !== undefined) {
    try {
      text = readFileSync(f.contentFile, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new UsageError(
        `cannot read --content-file ${f.contentFile} (${(err as NodeJS.ErrnoException).code})`,
      );
    }
  }
  if (text === undefined && hasFiles) return '';
  if (text === undefined || !text.trim())
    throw new UsageError(
      'nothing to send',
      'give the message as an argument, with --content-file F or --stdin',
    );
  return text;
}

function scopeLines(view: SessionView, field: 'capability_scope' | 'credential_scope'): string[] {
  const scope = view[field];
  const label = field.replace('_', ' ');
  return [
    `session ${view.session_id}: ${label} ${scope ? 'set' : 'cleared'}`,
    ...(scope ? [oneLine(JSON.stringify(scope), 200)] : []),
  ];
}

export function registerSessionCommands(sessions: Command, rt: CliRuntime): void {
  generationOptions(
    attachmentOptions(sessions.command('input'))
      .alias('send')
      .description('submit a message to an existing session as a detached run (--wait: until it ends)')
      .argument('<session_id>')
      .argument('[content]', 'the message; or --content-file / --stdin')
      .option('--content-file <file>', 'read the message from a file')
      .option('--stdin', 'read the message from standard input')
      .option('--provider <route>', 'route id for this run only (overrides the session route policy)'),
  )
    .option('--idempotency-key <key>', 'retrying with the same key returns the same run', nonEmpty)
    .option(
      '--require-workspace-file-path <path>',
      'the run completes only once this workspace file exists (repeatable)',
      collect,
    )
    .option('--wait', 'wait until the run finishes, then print it (exit 1 unless it completed)')
    .option('--poll-interval-ms <ms>', 'poll interval of --wait', positiveInt, 500)
    .action(async (sessionId: string, content: string | undefined, given: InputFlags) => {
      const attachments = attachmentsOf(given);
      const text = await inputText(rt, content, given, attachments.length > 0);
      const client = rt.client();
      const flags = await resolveModelFlags(client, given);
      const body: SubmitRunRequest = { content: text };
      if (attachments.length > 0) body.attachments = attachments;
      if (flags.provider) body.provider = flags.provider;
      const generation = generationOf(flags);
      if (generation) body.generation = generation;
      if (flags.requireWorkspaceFilePath?.length)
        body.completion_requirements = flags.requireWorkspaceFilePath.map((path) => ({
          type: 'workspace_file',
          path,
        }));
      const run = await client.submitRun(sessionId, body, {
        idempotencyKey: flags.idempotencyKey,
        ...traceparentFromEnv(),
      });
      if (!flags.wait) {
        rt.emit(run, (r) => [
          `run ${r.run_id} ${r.status}${r.queued_position ? ` at queue position ${r.queued_position}` : ''} in session ${r.session_id}`,
          `follow it with: kheish-daemon runs watch ${r.run_id}`,
        ]);
        return;
      }
      const done = await pollRun(rt, run.run_id, flags.pollIntervalMs);
      if (!done) {
        rt.exitCode = 130;
        return;
      }
      rt.emit(done, renderRun);
      rt.exitCode = exitCodeForRun(done);
    });

  generationOptions(
    sessions
      .command('set-route')
      .description("set the session's route policy: the route and generation settings of its future runs")
      .argument('<session_id>')
      .option('--provider <route>', 'route id for the session')
      .option('--clear', 'remove the route policy (runs use the daemon default route again)'),
  ).action(async (sessionId: string, given: GenerationFlags & { clear?: boolean }) => {
    const client = rt.client();
    let policy: JsonObject | null = null;
    if (given.clear) {
      if (given.provider || generationOf(given)) throw new UsageError('--clear takes no other route flag');
    } else {
      const flags = await resolveModelFlags(client, given);
      policy = {};
      if (flags.provider) policy.provider = flags.provider;
      const generation = generationOf(flags);
      if (generation) policy.generation = generation;
      if (Object.keys(policy).length === 0)
        throw new UsageError(
          'nothing to set',
          'pass --provider <route> and/or --model <model> (or --clear to remove the policy)',
        );
    }
    const view = policy
      ? await client.setRoutePolicy(sessionId, policy)
      : ((await client.request(
          'DELETE',
          `/v1/sessions/${encodeURIComponent(sessionId)}/route-policy`,
        )) as SessionView);
    rt.emit(view, renderSession);
  });

  for (const kind of ['capability', 'credential'] as const) {
    const field = `${kind}_scope` as const;
    sessions
      .command(`set-${kind}-scope`)
      .description(
        kind === 'capability'
          ? 'set what the session may see and call (skills, MCP servers and tools); --clear removes it'
          : 'set which routes, connectors and MCP credentials the session may use; --clear removes it',
      )
      .argument('<session_id>')
      .option(`--${kind}-scope-json <json>`, `the ${kind} scope as JSON`)
      .option(`--${kind}-scope-file <file>`, 'the scope from a JSON file (- for standard input)')
      .option('--clear', 'remove the scope')
      .action(async (sessionId: string, flags: Record<string, string | boolean | undefined>) => {
        const json = flags[`${kind}ScopeJson`] as string | undefined;
        const file = flags[`${kind}ScopeFile`] as string | undefined;
        const scope = await jsonInput(rt, json, file, `${kind}-scope`);
        if (flags.clear ? scope !== undefined : scope === undefined)
          throw new UsageError(`give exactly one of --${kind}-scope-json, --${kind}-scope-file or --clear`);
        const path = `/v1/sessions/${encodeURIComponent(sessionId)}/${kind}-scope`;
        const client = rt.client();
        const view = (
          flags.clear
            ? await client.request('DELETE', path)
            : await client.request('POST', path, { body: { [field]: scope } })
        ) as SessionView;
        rt.emit(view, (v) => scopeLines(v, field));
      });
  }
}
