// `runtime hooks`: the daemon's hook settings and dead letters (ops-runtime §2.7, §7).
//   runtime hooks get | set [--file F|--stdin|--reset] [--expected-revision N] [--skip-hooks]
//                     | dead-letter | resolve-dead-letter <id> --reason <text>
import { type Command, InvalidArgumentError } from 'commander';
import { type HookDeadLetter, type HookSettings, HooksResource } from '../sdk/hooks.ts';
import type { JsonObject } from '../sdk/types.ts';
import { jsonInput } from './approvals.ts';
import { UsageError } from './errors.ts';
import { table, time } from './format.ts';
import type { CliRuntime } from './runtime.ts';

const revision = (value: string): number => {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError('expected a revision number');
  return Number(value);
};

function renderSettings(s: HookSettings): string[] {
  const rows = Object.entries(s.hooks ?? {}).flatMap(([event, defs]) =>
    defs.map((d) => [
      event,
      d.name,
      d.executor.type,
      d.matcher ?? '*',
      `${d.failure_policy?.mode ?? 'open'}/${d.failure_policy?.max_retries ?? 0}`,
    ]),
  );
  return rows.length
    ? table(['EVENT', 'NAME', 'EXECUTOR', 'MATCHER', 'POLICY/RETRIES'], rows)
    : ['no hooks configured'];
}

function renderDeadLetters(items: HookDeadLetter[]): string[] {
  if (items.length === 0) return ['no hook dead letters'];
  return table(
    ['ID', 'WHEN', 'EVENT', 'HOOK', 'TARGET', 'MODE', 'ATTEMPTS', 'RESOLVED', 'ERROR'],
    items.map((r) => [
      r.id,
      time(r.created_at_ms) ?? '',
      r.event,
      r.hook_name,
      r.target,
      r.failure_mode,
      String(r.attempts),
      r.resolutions.length ? 'yes' : 'no',
      r.error,
    ]),
  );
}

export function registerHookCommands(runtime: Command, rt: CliRuntime): void {
  const hooks = runtime.command('hooks').description('hook settings and dead letters (admin)');
  const api = () => new HooksResource(rt.client());
  hooks
    .command('get')
    .description('the raw hook settings in force (GET /v1/runtime/hooks)')
    .action(async () => rt.emit(await api().get(), renderSettings));
  hooks
    .command('set')
    .description('replace every hook (validated before it becomes a runtime revision)')
    .option('--file <path>', 'HookSettings JSON ({"hooks": {...}}), or the wrapped request body')
    .option('--stdin', 'read that JSON from standard input')
    .option('--reset', 'remove every hook')
    .option('--expected-revision <n>', 'fail with 409 unless the runtime is at this revision', revision)
    .option('--skip-hooks', 'pass blocking config_change hooks (recorded as runtime_api_force)')
    .action(
      async (flags: {
        file?: string;
        stdin?: boolean;
        reset?: boolean;
        expectedRevision?: number;
        skipHooks?: boolean;
      }) => {
        const sources = [flags.file !== undefined, flags.stdin === true, flags.reset === true].filter(
          Boolean,
        );
        if (sources.length !== 1) throw new UsageError('give exactly one of --file, --stdin or --reset');
        let settings: HookSettings = { hooks: {} };
        if (!flags.reset) {
          const body = (await jsonInput(
            rt,
            undefined,
            flags.stdin ? '-' : flags.file,
            'hooks',
          )) as JsonObject;
          // The wrapped request body is accepted too; its settings are what is sent.
          settings = (body && typeof body === 'object' && 'settings' in body
            ? body.settings
            : body) as unknown as HookSettings;
        }
        const view = await api().set(settings, {
          expectedRevision: flags.expectedRevision,
          skipHooks: flags.skipHooks,
        });
        rt.emit(view, (v) => {
          const summary = v.hooks as JsonObject | undefined;
          return [
            `hooks configured: ${summary?.configured_hooks ?? 0}`,
            `revision: ${(v.config as JsonObject)?.revision}`,
          ];
        });
      },
    );
  hooks
    .command('dead-letter')
    .description('hook executions that failed after their retries (redacted, newest first)')
    .action(async () => rt.emit(await api().deadLetters(), renderDeadLetters));
  hooks
    .command('resolve-dead-letter <id>')
    .description('mark a dead letter resolved (a ledger entry; the failure evidence is kept)')
    .requiredOption('--reason <text>', 'why it is resolved')
    .action(async (id: string, opts: { reason: string }) => {
      const r = await api().resolveDeadLetter(id, opts.reason);
      rt.emit(r, (x) => [`resolved ${x.id}: ${opts.reason}`]);
    });
}
