// Pretty rendering of `runtime get` (GET /v1/runtime): the settings an operator changes first on
// top, then one table per policy. `--output json` prints the wire body unchanged.
import type { JsonObject } from '../sdk/types.ts';
import { arr, keyValues, num, obj, scalar, str, table } from './format.ts';

/** Byte limits read better in KiB/MiB when they are whole multiples. */
function bytes(value: unknown): string {
  const n = num(value);
  if (n === undefined) return scalar(value);
  if (n > 0 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n > 0 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} B`;
}

/** `name  value` rows of a flat settings object, byte and millisecond fields with their unit. */
function settingsTable(settings: JsonObject | undefined, skip: string[] = []): string[] {
  if (!settings) return [];
  const rows = Object.entries(settings)
    .filter(([k, v]) => !skip.includes(k) && (v === null || typeof v !== 'object'))
    .map(([k, v]) => [
      k,
      k.endsWith('_bytes') ? bytes(v) : k.endsWith('_ms') && num(v) !== undefined ? `${v} ms` : scalar(v),
    ]);
  return rows.length === 0 ? [] : table(['SETTING', 'VALUE'], rows);
}

function section(title: string, lines: string[]): string[] {
  return lines.length === 0 ? [] : ['', `${title}:`, ...lines.map((l) => `  ${l}`)];
}

/** `2 (1 connected): docs, linear (error: …)` — details in `--output json` and docs/mcp.md. */
function mcpLine(mcp: JsonObject | undefined): string | undefined {
  if (!mcp) return undefined;
  const servers = arr(mcp.servers).map((x) => obj(x) ?? {});
  if (servers.length === 0) return 'none configured';
  const up = servers.filter((x) => x.connected === true).length;
  const names = servers.map((x) => `${scalar(x.server)}${x.connected === true ? '' : ' (not connected)'}`);
  return `${servers.length} (${up} connected): ${names.join(', ')}`;
}

function skillsLine(skills: JsonObject | undefined): string | undefined {
  if (!skills) return undefined;
  const warnings = arr(skills.warnings).length;
  return `${scalar(skills.count ?? 0)} loaded${warnings ? `, ${warnings} loader warning(s)` : ''}`;
}

function hooksLine(hooks: JsonObject | undefined): string | undefined {
  if (!hooks) return undefined;
  if (hooks.enabled === false) return 'off (the persisted settings are invalid: see `runtime hooks get`)';
  return `${scalar(hooks.configured_hooks ?? 0)} configured`;
}

export function renderRuntime(v: JsonObject): string[] {
  const config = obj(v.config);
  const routes = arr(v.routes).map((r) => obj(r) ?? {});
  const subagents = obj(v.subagent_policy);
  const profiles = Object.entries(obj(subagents?.profiles) ?? {}).map(([name, p]) => {
    const profile = obj(p) ?? {};
    const tools = arr(profile.tools).map((t) => scalar(t));
    return [
      name,
      tools.length > 6 ? `${tools.slice(0, 6).join(', ')}, … (${tools.length})` : tools.join(', '),
      scalar(profile.description ?? ''),
    ];
  });
  const lines = keyValues([
    ['default route', str(v.default_route)],
    ['default model', str(v.default_model) ?? str(v.model)],
    ['routes file', str(v.routes_file) ?? (v.builtin_demo_route ? '(none: built-in demo route)' : undefined)],
    // The wire spelling (acceptEdits), as everywhere the CLI prints a mode.
    ['permission mode', str(v.permission_mode)],
    ['debug level', str(v.debug_level)],
    ['mcp servers', mcpLine(obj(v.mcp))],
    ['skills', skillsLine(obj(v.skills))],
    ['hooks', hooksLine(obj(v.hooks))],
    ['workspace root', str(v.workspace_root) ?? '(none)'],
    ['state root', str(v.state_root)],
    ['store path', str(obj(v.config)?.store_path) ?? str(v.store_path)],
    [
      'config revision',
      config
        ? `${scalar(config.revision)}${config.persisted === false ? ' (not persisted)' : ''}, ${scalar(config.history_len ?? 0)} of ${scalar(config.history_limit ?? '-')} kept`
        : undefined,
    ],
  ]);
  if (routes.length > 0)
    lines.push(
      '',
      ...table(
        ['ROUTE', 'DRIVER', 'MODEL', 'STATE', 'DEFAULT'],
        routes.map((r) => [
          scalar(r.route_id),
          scalar(r.driver ?? r.provider),
          scalar(r.model ?? r.default_model),
          scalar(r.readiness),
          r.is_default ? 'yes' : '',
        ]),
      ),
    );
  const prompt = Object.entries(obj(v.system_prompt) ?? {}).filter(([, x]) => x !== null && x !== '');
  lines.push(
    ...section('system prompt', prompt.length ? settingsTable(Object.fromEntries(prompt) as JsonObject) : []),
    ...section('tool limits', settingsTable(obj(v.tool_runtime_limits))),
    ...section('scheduler policy', settingsTable(obj(v.scheduler_policy))),
    ...section('subagent policy', settingsTable(subagents, ['profiles'])),
    ...section(
      'subagent profiles',
      profiles.length ? table(['PROFILE', 'TOOLS', 'DESCRIPTION'], profiles) : [],
    ),
  );
  return lines;
}
