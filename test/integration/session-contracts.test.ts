// Session contracts as the published docs set them: the output contract's body is the contract
// itself ({schema, max_repair_attempts}), the input contract's is {schema}; GET reads them back,
// DELETE clears them. A submission to a session with an input contract must be one JSON value
// matching it: anything else is 400 sessions/input_contract_violated with no run; a match runs
// with its canonical JSON.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon, waitForRun } from '../helpers/daemon.ts';

let d: TestDaemon;
before(async () => {
  // No rule and no default: the scripted driver answers with the input text.
  d = await startDaemon({ script: { rules: [] } });
});
after(async () => {
  await d.kill();
  await d.cleanup();
});

const order = {
  type: 'object',
  properties: { order_id: { type: 'string' }, amount: { type: 'number' } },
  required: ['order_id', 'amount'],
  additionalProperties: false,
};
const runCount = async (sid: string) =>
  (await http(d.url, 'GET', `/v1/runs?session_id=${sid}`)).body.length as number;

test('output contract: PUT {schema, max_repair_attempts} as documented, GET reads it, DELETE clears it', async () => {
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'oc' });
  const status = {
    type: 'object',
    properties: { status: { type: 'string' } },
    required: ['status'],
    additionalProperties: false,
  };
  const put = await http(d.url, 'PUT', '/v1/sessions/oc/output-contract', {
    schema: status,
    max_repair_attempts: 2,
  });
  assert.equal(put.status, 200, put.text);
  assert.deepEqual(put.body.output_contract, { schema: status, max_repair_attempts: 2 });
  const got = await http(d.url, 'GET', '/v1/sessions/oc/output-contract');
  assert.deepEqual(got.body, { schema: status, max_repair_attempts: 2 });
  // The wrapped body of earlier releases still works; an unsupported schema is refused.
  const wrapped = await http(d.url, 'POST', '/v1/sessions/oc/output-contract', {
    output_contract: { schema: status },
  });
  assert.equal(wrapped.body.output_contract.max_repair_attempts, 3);
  const bad = await http(d.url, 'PUT', '/v1/sessions/oc/output-contract', {
    schema: { type: 'string', pattern: 'x' },
  });
  assert.deepEqual(
    [bad.status, bad.body.domain, bad.body.code],
    [400, 'sessions', 'output_contract_schema_unsupported'],
  );
  assert.equal((await http(d.url, 'DELETE', '/v1/sessions/oc/output-contract')).status, 200);
  const cleared = await http(d.url, 'GET', '/v1/sessions/oc/output-contract');
  assert.equal(cleared.status, 200);
  assert.equal(cleared.body, null);
  assert.equal((await http(d.url, 'GET', '/v1/sessions/nope/output-contract')).status, 404);
});

test('input contract: PUT {schema}, GET, an unsupported schema is 400 input_contract_schema_unsupported', async () => {
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'ic-set' });
  const put = await http(d.url, 'PUT', '/v1/sessions/ic-set/input-contract', { schema: order });
  assert.equal(put.status, 200, put.text);
  assert.deepEqual(put.body.input_contract, { schema: order });
  assert.deepEqual((await http(d.url, 'GET', '/v1/sessions/ic-set/input-contract')).body, { schema: order });
  const bad = await http(d.url, 'PUT', '/v1/sessions/ic-set/input-contract', {
    schema: { type: 'object', properties: {} },
  });
  assert.deepEqual([bad.status, bad.body.code], [400, 'input_contract_schema_unsupported']);
  assert.match(bad.body.detail, /additionalProperties: false/);
  assert.equal((await http(d.url, 'DELETE', '/v1/sessions/ic-set/input-contract')).status, 200);
  assert.equal((await http(d.url, 'GET', '/v1/sessions/ic-set/input-contract')).body, null);
});

test('input contract: a violating submission is refused with the path and creates no run; a match runs canonical JSON', async () => {
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'ic' });
  await http(d.url, 'PUT', '/v1/sessions/ic/input-contract', { schema: order });
  for (const [content, detail] of [
    ['please ship order 42', /not exactly one JSON value/],
    ['{"order_id": "42"}', /\$\.amount: missing required field/],
    ['{"order_id": "42", "amount": "ten"}', /\$\.amount: expected a number, got a string/],
    ['{"order_id": "42", "amount": 10, "debug": true}', /\$: unknown field `debug`/],
  ] as const) {
    for (const path of ['runs', 'input']) {
      const res = await http(d.url, 'POST', `/v1/sessions/ic/${path}`, { content });
      assert.deepEqual(
        [res.status, res.body.domain, res.body.code],
        [400, 'sessions', 'input_contract_violated'],
        content,
      );
      assert.match(res.body.detail, detail);
    }
  }
  assert.equal(await runCount('ic'), 0, 'no run was created');

  const ok = await http(d.url, 'POST', '/v1/sessions/ic/runs', {
    content: '```json\n{ "amount": 10, "order_id": "42" }\n```',
    metadata: { source: 'test' },
  });
  assert.equal(ok.status, 202, ok.text);
  const run = await waitForRun(d.url, ok.body.run_id);
  assert.equal(run.outputs[0].content, '{"amount":10,"order_id":"42"}', 'the model saw the canonical JSON');
  assert.deepEqual(run.input_metadata, { source: 'test', structured_input: { amount: 10, order_id: '42' } });

  const items = await http(d.url, 'POST', '/v1/sessions/ic/runs', {
    input_items: [
      { type: 'text', text: '{"order_id": "7",' },
      { type: 'text', text: '"amount": 1}' },
    ],
  });
  assert.equal(items.status, 202, items.text);
  const itemsRun = await waitForRun(d.url, items.body.run_id);
  assert.equal(itemsRun.outputs[0].content, '{"amount":1,"order_id":"7"}');
  assert.equal(await runCount('ic'), 2);
});
