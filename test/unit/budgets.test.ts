import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addUsage, emptyUsage, firstBreach, wallTimeLeft } from '../../src/engine/budgets.ts';
import { costUsd, priceFor } from '../../src/models/pricing.ts';

test('budgets: the first limit reached is named; nothing without a budget', () => {
  const usage = addUsage(emptyUsage(), { model_calls: 3, total_tokens: 500, cost_usd: 0.5 });
  assert.equal(firstBreach('run', null, usage, 0), null);
  assert.equal(firstBreach('run', { max_turns: 4, max_total_tokens: 1000 }, usage, 0), null);
  assert.equal(firstBreach('run', { max_turns: 3 }, usage, 0)?.budget, 'turns');
  assert.equal(
    firstBreach('session', { max_cost_usd: 0.5 }, usage, 0)?.message,
    'budget_exhausted: session cost_usd (used 0.5 of 0.5 USD)',
  );
  assert.equal(firstBreach('run', { max_wall_time_ms: 100 }, usage, 150)?.budget, 'wall_time');
  assert.equal(wallTimeLeft({ max_wall_time_ms: 100 }, 30), 70);
  assert.equal(wallTimeLeft({}, 30), null);
});

test('pricing: per-million prices, cached input at its own price, vendor prefixes, overrides', () => {
  const price = priceFor('openrouter/openai/gpt-5.4-mini');
  assert.ok(price);
  assert.equal(
    costUsd(
      { input_usd_per_mtok: 2, output_usd_per_mtok: 10, cached_input_usd_per_mtok: 0.5 },
      { input_tokens: 1_000_000, output_tokens: 100_000, cached_input_tokens: 400_000 },
    ),
    1.2 + 0.2 + 1,
  );
  assert.equal(priceFor('unknown-model'), null);
  assert.equal(costUsd(null, { input_tokens: 5, output_tokens: 5 }), 0);
  assert.deepEqual(priceFor('x', { input_usd_per_mtok: 1, output_usd_per_mtok: 1 }), {
    input_usd_per_mtok: 1,
    output_usd_per_mtok: 1,
  });
});
