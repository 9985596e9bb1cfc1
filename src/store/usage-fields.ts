// The integer fields of a run's usage JSON (engine/budgets.ts RunUsage) that the status counters
// sum as they are (migration 0011, repos/runs.ts); the cost is summed apart, as nano-USD.
export const USAGE_INT_FIELDS = [
  'model_calls',
  'input_tokens',
  'output_tokens',
  'cached_input_tokens',
  'total_tokens',
  'unpriced_calls',
] as const;

/** The usage counter rows: the backfill creates them all, the usage triggers only update them. */
export const USAGE_COUNTER_NAMES = [
  ...USAGE_INT_FIELDS.map((f) => `runs:usage:${f}`),
  'runs:usage:cost_nanousd',
];
