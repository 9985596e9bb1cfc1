// Model prices (USD per million tokens) for cost accounting and budgets. Routes may override them
// (`[routes.<id>.pricing]`); unknown models cost 0 and are reported as unpriced.

export interface ModelPrice {
  input_usd_per_mtok: number;
  output_usd_per_mtok: number;
  cached_input_usd_per_mtok?: number;
}

/** List prices as published by the providers; keep this table small and override per route. */
const BUILTIN: Record<string, ModelPrice> = {
  'claude-opus-4-6': { input_usd_per_mtok: 15, output_usd_per_mtok: 75, cached_input_usd_per_mtok: 1.5 },
  'claude-sonnet-4-6': { input_usd_per_mtok: 3, output_usd_per_mtok: 15, cached_input_usd_per_mtok: 0.3 },
  'claude-haiku-4-5': { input_usd_per_mtok: 1, output_usd_per_mtok: 5, cached_input_usd_per_mtok: 0.1 },
  'gpt-5.4': { input_usd_per_mtok: 1.25, output_usd_per_mtok: 10, cached_input_usd_per_mtok: 0.125 },
  'gpt-5.4-mini': { input_usd_per_mtok: 0.25, output_usd_per_mtok: 2, cached_input_usd_per_mtok: 0.025 },
  'gemini-2.5-flash': { input_usd_per_mtok: 0.3, output_usd_per_mtok: 2.5, cached_input_usd_per_mtok: 0.075 },
  'gemini-2.5-pro': { input_usd_per_mtok: 1.25, output_usd_per_mtok: 10, cached_input_usd_per_mtok: 0.31 },
  'grok-4-fast-reasoning': {
    input_usd_per_mtok: 0.2,
    output_usd_per_mtok: 0.5,
    cached_input_usd_per_mtok: 0.05,
  },
};

/** Looks a model up as given, then without a vendor prefix (`openai/gpt-5.4-mini`). */
export function priceFor(model: string, override?: ModelPrice): ModelPrice | null {
  if (override) return override;
  return BUILTIN[model] ?? BUILTIN[model.slice(model.lastIndexOf('/') + 1)] ?? null;
}

export function costUsd(
  price: ModelPrice | null,
  usage: { input_tokens: number; output_tokens: number; cached_input_tokens?: number },
): number {
  if (!price) return 0;
  const cached = usage.cached_input_tokens ?? 0;
  const fresh = Math.max(0, usage.input_tokens - cached);
  const cachedPrice = price.cached_input_usd_per_mtok ?? price.input_usd_per_mtok;
  return (
    (fresh * price.input_usd_per_mtok +
      cached * cachedPrice +
      usage.output_tokens * price.output_usd_per_mtok) /
    1e6
  );
}
