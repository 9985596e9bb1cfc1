// Budgets: hard limits on turns, tokens, cost and wall time, per run and per session, checked
// before every model call. Exceeding one fails the run with error_code `budget_exhausted`.
import { z } from 'zod';

export const BudgetSchema = z
  .object({
    max_turns: z.number().int().positive().optional(),
    max_total_tokens: z.number().int().positive().optional(),
    max_cost_usd: z.number().positive().optional(),
    max_wall_time_ms: z.number().int().positive().optional(),
  })
  .strict();
export type Budget = z.infer<typeof BudgetSchema>;

export interface RunUsage {
  model_calls: number;
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens: number;
  total_tokens: number;
  cost_usd: number;
  /** Calls whose model has no known price (their cost counts as 0). */
  unpriced_calls: number;
}

export const emptyUsage = (): RunUsage => ({
  model_calls: 0,
  input_tokens: 0,
  output_tokens: 0,
  cached_input_tokens: 0,
  total_tokens: 0,
  cost_usd: 0,
  unpriced_calls: 0,
});

export function addUsage(a: RunUsage, b: Partial<RunUsage>): RunUsage {
  const out = { ...a };
  for (const k of Object.keys(out) as Array<keyof RunUsage>) out[k] += b[k] ?? 0;
  out.cost_usd = Math.round(out.cost_usd * 1e9) / 1e9;
  return out;
}

export type BudgetName = 'turns' | 'total_tokens' | 'cost_usd' | 'wall_time';

export interface BudgetBreach {
  scope: 'run' | 'session';
  budget: BudgetName;
  message: string;
}

/** The first limit already reached, or null. `elapsedMs` is wall time spent so far in that scope. */
export function firstBreach(
  scope: 'run' | 'session',
  budget: Budget | null,
  usage: RunUsage,
  elapsedMs: number,
): BudgetBreach | null {
  if (!budget) return null;
  const checks: Array<[BudgetName, number | undefined, number, string]> = [
    ['turns', budget.max_turns, usage.model_calls, 'model calls'],
    ['total_tokens', budget.max_total_tokens, usage.total_tokens, 'tokens'],
    ['cost_usd', budget.max_cost_usd, usage.cost_usd, 'USD'],
    ['wall_time', budget.max_wall_time_ms, elapsedMs, 'ms of wall time'],
  ];
  for (const [name, limit, used, unit] of checks) {
    if (limit !== undefined && used >= limit)
      return {
        scope,
        budget: name,
        message: `budget_exhausted: ${scope} ${name} (used ${round(used)} of ${limit} ${unit})`,
      };
  }
  return null;
}

/** Milliseconds left before a wall-time limit, for aborting a model call that would overrun it. */
export function wallTimeLeft(budget: Budget | null, elapsedMs: number): number | null {
  return budget?.max_wall_time_ms === undefined ? null : Math.max(0, budget.max_wall_time_ms - elapsedMs);
}

const round = (n: number) => Math.round(n * 1e6) / 1e6;
