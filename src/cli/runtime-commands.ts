// `runtime`: the runtime settings of the running daemon (get, set-model, routes, permission mode,
// permission checks; tool limits in permissions.ts, the other settings and revisions in
// runtime-settings.ts). The `doctor` commands are in doctor-checks.ts and doctor-routes.ts.

import { type Command, InvalidArgumentError } from 'commander';
import {
  type JsonObject,
  PERMISSION_MODES,
  type PermissionCheckRequest,
  type PermissionMode,
} from '../sdk/types.ts';
import { jsonInput } from './approvals.ts';
import { type RouteCheck, renderRouteChecks } from './doctor-routes.ts';
import { keyValues, str, table } from './format.ts';
import { resolveModelFlags } from './model-selector.ts';
import { revision } from './parse.ts';
import { registerToolLimitCommands } from './permissions.ts';
import type { CliRuntime } from './runtime.ts';
import { registerRuntimeAuthCommands } from './runtime-auth.ts';
import { registerHookCommands } from './runtime-hooks.ts';
import { registerRouteCommands } from './runtime-routes.ts';
import { registerRuntimeSettingCommands } from './runtime-settings.ts';
import { renderRuntime } from './runtime-view.ts';

export function registerRuntime(program: Command, rt: CliRuntime): void {
  const runtime = program.command('runtime').description('runtime settings of the running daemon');
  registerToolLimitCommands(runtime, rt);
  registerRuntimeSettingCommands(runtime, rt);
  registerHookCommands(runtime, rt);
  registerRuntimeAuthCommands(runtime, rt);
  /**
   * acceptEdits → accept-edits: the CLI spelling of a mode on input (ops-runtime §6.1). Output
   * always shows the wire spelling, as the API and `--output json` do.
   */
  const kebab = (mode: string): string => mode.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  /** Accepts the CLI (kebab-case) or the wire (camelCase) spelling. */
  const permissionMode = (value: string): PermissionMode => {
    const mode = PERMISSION_MODES.find((m) => m === value || kebab(m) === value);
    if (!mode) throw new InvalidArgumentError(`expected one of ${PERMISSION_MODES.map(kebab).join(', ')}`);
    return mode;
  };
  runtime
    .command('get')
    .description('runtime snapshot (GET /v1/runtime)')
    .action(async () => {
      rt.emit((await rt.client().request('GET', '/v1/runtime')) as JsonObject, renderRuntime);
    });
  runtime
    .command('set-model <selector>')
    .description('change the default model (and route, with <route>/<model> or --provider) for future runs')
    .option('--provider <route>', 'route id to make the default')
    .option('--expected-revision <n>', 'fail with 409 unless the runtime is at this revision', (v) =>
      Number(v),
    )
    .action(async (selector: string, opts: { provider?: string; expectedRevision?: number }) => {
      const flags = await resolveModelFlags(rt.client(), { provider: opts.provider, model: selector });
      const body: Record<string, unknown> = { model: flags.model };
      if (flags.provider) body.provider = flags.provider;
      if (opts.expectedRevision !== undefined) body.expected_revision = opts.expectedRevision;
      const view = (await rt.client().request('POST', '/v1/runtime/model', { body })) as JsonObject;
      rt.emit(view, (v) => [
        `default route: ${v.default_route}`,
        `default model: ${v.model}`,
        `revision: ${(v.config as JsonObject)?.revision}`,
      ]);
    });
  const routes = runtime
    .command('routes')
    .description('configured routes and their readiness (GET /v1/runtime/routes); add | remove live routes')
    .action(async () => {
      const routes = (await rt.client().request('GET', '/v1/runtime/routes')) as RouteCheck[];
      rt.emit(
        { routes: routes.map((r) => ({ ...r, warnings: [] })) } as unknown as JsonObject,
        renderRouteChecks,
      );
    });
  registerRouteCommands(routes, rt);
  runtime
    .command('set-permission-mode')
    .description('permission mode for future tool calls')
    .argument('<mode>', PERMISSION_MODES.map(kebab).join(' | '), permissionMode)
    .option('--expected-revision <n>', 'fail with 409 unless the runtime is at this revision', revision)
    .action(async (mode: PermissionMode, opts: { expectedRevision?: number }) => {
      const view = await rt.client().setPermissionMode(mode, opts.expectedRevision);
      rt.emit(view, (v) => [
        `permission mode: ${v.permission_mode}`,
        `revision: ${(v.config as JsonObject)?.revision}`,
      ]);
    });
  const permissions = runtime.command('permissions').description('explain permission decisions (dry run)');
  permissions
    .command('check <tool_name>')
    .description('what would happen if a run called this tool now (no hooks, approvals or audit)')
    .option('--session-id <id>', "include this session's rules")
    .option('--input-json <json>', 'the tool arguments')
    .option('--tool-call-id <id>', 'tool call id for the audit preview')
    .option('--mode <mode>', 'evaluate under this mode instead of the current one', permissionMode)
    .action(
      async (
        toolName: string,
        opts: { sessionId?: string; inputJson?: string; toolCallId?: string; mode?: PermissionMode },
      ) => {
        const body: PermissionCheckRequest = { tool_name: toolName };
        if (opts.sessionId) body.session_id = opts.sessionId;
        if (opts.toolCallId) body.tool_call_id = opts.toolCallId;
        if (opts.mode) body.mode_override = opts.mode;
        const input = await jsonInput(rt, opts.inputJson, undefined, 'input');
        if (input !== undefined) body.input = input;
        rt.emit(await rt.client().checkPermission(body), (e) =>
          keyValues([
            ['tool', toolName],
            ['decision', e.decision],
            ['base decision', str(e.base_decision)],
            ['mode', str(e.effective_mode)],
            ['mode effect', str(e.mode_effect)],
            [
              'matched rule',
              e.matched_rule
                ? `${e.matched_rule} (${[e.matched_rule_scope, e.matched_rule_origin].filter(Boolean).join(', ')})`
                : undefined,
            ],
            ['approval', e.approval_required ? 'required' : 'not required'],
            ['reason', str(e.reason)],
          ]),
        );
      },
    );
  permissions
    .command('matrix')
    .description('every registered tool under every permission mode')
    .option('--session-id <id>', "include this session's rules")
    .action(async (opts: { sessionId?: string }) => {
      rt.emit(await rt.client().permissionMatrix(opts.sessionId), (m) =>
        table(
          ['TOOL', ...m.modes],
          m.tools.map((t) => [t.tool_name, ...m.modes.map((x) => t.decisions[x] ?? '-')]),
        ),
      );
    });
}
