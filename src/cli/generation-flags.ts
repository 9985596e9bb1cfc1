// The run-scoped generation flags (`+gen` in ops-runtime §2.10): one definition for every command
// that submits or configures runs (sessions input/set-route, schedules create, agents spawn).
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { JsonObject } from '../sdk/types.ts';
import { positiveInt } from './parse.ts';

export interface GenerationFlags {
  provider?: string;
  model?: string;
  fallbackModel?: string;
  temperature?: number;
  maxOutputTokens?: number;
  reasoningEffort?: string;
}

function temperature(value: string): number {
  const n = Number(value);
  if (!value.trim() || !Number.isFinite(n) || n < 0 || n > 2)
    throw new InvalidArgumentError('expected a number from 0 to 2');
  return n;
}

/** Adds --model, --fallback-model, --temperature, --max-output-tokens and --reasoning-effort. */
export function generationOptions(cmd: Command): Command {
  return cmd
    .option('--model <model>', 'model, or a route-aware selector <route_id>/<model>')
    .option('--fallback-model <model>', 'model to retry with on the same route when the first fails')
    .option('--temperature <t>', 'sampling temperature, 0 to 2', temperature)
    .option('--max-output-tokens <n>', 'cap on the tokens of each model answer', positiveInt)
    .addOption(
      new Option('--reasoning-effort <effort>', 'reasoning effort of models that support it').choices([
        'none',
        'minimal',
        'low',
        'medium',
        'high',
        'xhigh',
      ]),
    );
}

/** The wire `generation` object of the flags given, or undefined when none was. */
export function generationOf(f: GenerationFlags): JsonObject | undefined {
  const g: JsonObject = {};
  if (f.model) g.model = f.model;
  if (f.fallbackModel) g.fallback_model = f.fallbackModel;
  if (f.temperature !== undefined) g.temperature = f.temperature;
  if (f.maxOutputTokens !== undefined) g.max_output_tokens = f.maxOutputTokens;
  if (f.reasoningEffort) g.reasoning_effort = f.reasoningEffort;
  return Object.keys(g).length > 0 ? g : undefined;
}
