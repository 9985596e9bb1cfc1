// `runtime hooks`: the daemon's hook settings and dead letters (ops-runtime §2.7, §7).
//   runtime hooks get | set [--file F|--stdin|--reset] [--expected-revision N] [--skip-hooks]
//                     | dead-letter | resolve-dead-letter <id> --reason <text>
import type { Command } from 'commander';
import { type HookDeadLetter, type HookSettings, HooksResource } from '../sdk/hooks.ts';
import type { JsonObject } from '../sdk/types.ts';
import { table, time } from './format.ts';
import { type ReplaceFlags, replaceInput, replaceOptions } from './replace-input.ts';
import type { CliRuntime } from './runtime.ts';

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
  replaceOptions(
    hooks.command('set').description('replace every hook (validated before it becomes a runtime revision)'),
    'HookSettings JSON ({"hooks": {...}}), or the wrapped request body',
    'remove every hook',
  )
    .option('--skip-hooks', 'pass blocking config_change hooks (recorded as runtime_api_force)')
    .action(async (flags: ReplaceFlags & { skipHooks?: boolean }) => {
      // The wrapped request body is accepted too; its settings are what is sent.
      const settings = (await replaceInput(rt, flags, {
        label: 'hooks',
        key: 'settings',
        onReset: { hooks: {} },
      })) as HookSettings;
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
    });
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
