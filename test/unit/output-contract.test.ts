import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type ContractSchemaError,
  canonicalJson,
  clampRepairs,
  compileSchema,
  extractJson,
  validate,
} from '../../src/engine/output-contract.ts';

const schema = compileSchema({
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'T',
  type: 'object',
  additionalProperties: false,
  required: ['count', 'tags'],
  properties: {
    count: { type: 'integer' },
    tags: { type: 'array', items: { type: 'string' } },
    meta: { type: 'object', additionalProperties: false, properties: { ok: { type: 'boolean' } } },
  },
});

test('validation names the first mismatching path', () => {
  assert.equal(validate(schema, { count: 1, tags: [] }), null);
  assert.equal(validate(schema, { count: '1', tags: [] }), '$.count: expected a number, got a string');
  assert.equal(validate(schema, { tags: [] }), '$.count: missing required field');
  assert.equal(validate(schema, { count: 1, tags: ['a', 2] }), '$.tags[1]: expected a string, got a number');
  assert.equal(validate(schema, { count: 1, tags: [], debug: 1 }), '$: unknown field `debug`');
  assert.equal(validate(schema, { count: 1, tags: [], meta: null }), null, 'null optional counts as absent');
  assert.equal(
    validate(schema, { count: 1, tags: [], meta: { ok: 'y' } }),
    '$.meta.ok: expected a boolean, got a string',
  );
});

test('schema import collects every unsupported keyword with its path', () => {
  assert.throws(
    () =>
      compileSchema({
        type: 'object',
        properties: { a: { type: 'string', pattern: 'x' }, b: { type: 'number', minimum: 1 } },
        required: ['c'],
      }),
    (err: ContractSchemaError) =>
      /additionalProperties: false/.test(err.message) &&
      /\$\.a: keyword `pattern`/.test(err.message) &&
      /\$\.b: keyword `minimum`/.test(err.message) &&
      /required field `c`/.test(err.message),
  );
});

test('candidate extraction unwraps one code fence; canonical JSON sorts keys; repairs clamp to 5', () => {
  assert.deepEqual(extractJson('  ```json\n{"b":1,"a":[2]}\n```  '), { value: { b: 1, a: [2] } });
  assert.ok('error' in extractJson('{"a":1} trailing'));
  assert.equal(
    canonicalJson({ b: 1, a: { d: [1, { z: 0, y: 1 }], c: null } }),
    '{"a":{"c":null,"d":[1,{"y":1,"z":0}]},"b":1}',
  );
  assert.equal(clampRepairs(undefined), 3);
  assert.equal(clampRepairs(10), 5);
  assert.equal(clampRepairs(-1), 0);
});
