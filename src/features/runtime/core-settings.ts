// The runtime's own live settings (ops-runtime §11): default model, permission mode, tool limits,
// debug level and system prompt. Each is validated here before it becomes a revision and applied to
// the engine when a revision (or a rollback, or the record at boot) puts it in force.
import { z } from 'zod';
import type { Engine } from '../../engine/engine.ts';
import { DaemonError } from '../../errors/daemon-error.ts';
import { RouteResolutionError } from '../../models/route-inventory.ts';
import type { PermissionMode } from '../../tools/permissions.ts';
import {
  DEFAULT_TOOL_RUNTIME_LIMITS,
  parseToolRuntimeLimits,
  type ToolRuntimeLimitsRecord,
} from '../../tools/runtime-limits.ts';
import type { RuntimeSettings } from './settings.ts';

export const DEBUG_LEVELS = ['off', 'on', 'redacted', 'full'] as const;
export type DebugLevel = (typeof DEBUG_LEVELS)[number];

export const SystemPromptSettings = z
  .object({
    override_prompt: z.string().nullable().optional(),
    custom_prompt: z.string().nullable().optional(),
    append_prompt: z.string().nullable().optional(),
    language: z.string().nullable().optional(),
    output_style: z.string().nullable().optional(),
  })
  .strict();
export type SystemPromptSettings = z.infer<typeof SystemPromptSettings>;

interface ModelSetting {
  provider: string;
  model: string | null;
}

export function defineCoreSettings(settings: RuntimeSettings, engine: Engine): void {
  settings.define<ModelSetting>('model', {
    apply: (v) => {
      // A route removed from the routes file since the revision: keep the configured default.
      if (v && engine.routes.get(v.provider)) engine.routes.setDefault(v.provider, v.model);
      else engine.routes.resetDefault();
    },
  });
  settings.define<PermissionMode>('permission_mode', {
    apply: (v) => {
      engine.permissionMode = v ?? 'default';
    },
  });
  settings.define<ToolRuntimeLimitsRecord>('tool_limits', {
    apply: (v) => {
      engine.toolLimits.current = v ?? { ...DEFAULT_TOOL_RUNTIME_LIMITS };
    },
  });
  settings.define<DebugLevel>('debug_level', { apply: () => undefined });
  settings.define<SystemPromptSettings>('system_prompt', { apply: () => undefined });
}

/** `provider` is the route id and `model` is kept as given; selectors are the CLI's to parse. */
export function modelValue(engine: Engine, body: { provider?: string; model: string }): ModelSetting {
  try {
    const resolved = engine.routes.resolve({ provider: body.provider, model: body.model }, null);
    return { provider: resolved.route_id, model: resolved.model };
  } catch (err) {
    if (err instanceof RouteResolutionError) throw new DaemonError(400, 'routes', err.code, err.message);
    throw err;
  }
}

/** The whole ToolRuntimeLimits replacement, or 400 runtime/invalid_tool_runtime_limits. */
export function toolLimitsValue(body: {
  limits?: unknown;
  expected_revision?: unknown;
}): ToolRuntimeLimitsRecord {
  const parsed = parseToolRuntimeLimits(body.limits);
  if (!parsed.ok)
    throw new DaemonError(400, 'runtime', 'invalid_tool_runtime_limits', parsed.problems.join('; '));
  const expected = body.expected_revision;
  if (expected !== undefined && (typeof expected !== 'number' || !Number.isInteger(expected) || expected < 0))
    throw new DaemonError(
      400,
      'runtime',
      'invalid_tool_runtime_limits',
      '`expected_revision` must be a whole number',
    );
  return parsed.limits;
}

/**
 * The system messages the runtime's prompt settings give every run: an override replaces them all;
 * otherwise the custom prompt, the appended text, the language and the output style, in that order.
 */
export function systemPromptParts(s: SystemPromptSettings | undefined): string[] {
  if (!s) return [];
  if (s.override_prompt) return [s.override_prompt];
  const parts: string[] = [];
  if (s.custom_prompt) parts.push(s.custom_prompt);
  if (s.append_prompt) parts.push(s.append_prompt);
  if (s.language) parts.push(`Answer in ${s.language}.`);
  if (s.output_style) parts.push(`Output style: ${s.output_style}.`);
  return parts;
}
