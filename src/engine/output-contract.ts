// Structured output contracts (concepts §4.1): a strict JSON Schema subset compiled into closed
// schema nodes, validation that names the first mismatching path, and candidate extraction.

export type SchemaNode =
  | { kind: 'any' }
  | { kind: 'string' }
  | { kind: 'number' }
  | { kind: 'boolean' }
  | { kind: 'array'; items: SchemaNode }
  | { kind: 'object'; fields: Record<string, SchemaNode>; optional_fields: Record<string, SchemaNode> };

export interface OutputContract {
  schema: Record<string, unknown>;
  max_repair_attempts: number;
}

export const DEFAULT_REPAIR_ATTEMPTS = 3;
export const MAX_REPAIR_ATTEMPTS = 5;

export class ContractSchemaError extends Error {}

const ALLOWED = new Set(['type', 'properties', 'required', 'additionalProperties', 'items', 'description']);
const ROOT_ONLY = new Set(['$schema', 'title']);

/** Compiles the JSON Schema subset; every unsupported keyword is collected with its path. */
export function compileSchema(schema: unknown): SchemaNode {
  const problems: string[] = [];
  const node = compile(schema, '$', true, problems);
  if (problems.length)
    throw new ContractSchemaError(`unsupported output contract schema: ${problems.join('; ')}`);
  return node;
}

function compile(s: unknown, path: string, root: boolean, problems: string[]): SchemaNode {
  if (typeof s !== 'object' || s === null || Array.isArray(s)) {
    problems.push(`${path}: a schema must be an object`);
    return { kind: 'any' };
  }
  const o = s as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!ALLOWED.has(k) && !(root && ROOT_ONLY.has(k)))
      problems.push(`${path}: keyword \`${k}\` is not supported`);
  switch (o.type) {
    case undefined:
      return { kind: 'any' };
    case 'string':
    case 'boolean':
      return { kind: o.type };
    case 'number':
    case 'integer':
      return { kind: 'number' };
    case 'array':
      return {
        kind: 'array',
        items: o.items === undefined ? { kind: 'any' } : compile(o.items, `${path}[]`, false, problems),
      };
    case 'object': {
      if (o.additionalProperties !== false)
        problems.push(`${path}: objects must declare additionalProperties: false`);
      const props = (o.properties ?? {}) as Record<string, unknown>;
      const required = (o.required ?? []) as string[];
      const fields: Record<string, SchemaNode> = {};
      const optional_fields: Record<string, SchemaNode> = {};
      for (const name of required)
        if (!(name in props)) problems.push(`${path}: required field \`${name}\` is not in properties`);
      for (const [name, sub] of Object.entries(props)) {
        const target = required.includes(name) ? fields : optional_fields;
        target[name] = compile(sub, `${path}.${name}`, false, problems);
      }
      return { kind: 'object', fields, optional_fields };
    }
    default:
      problems.push(`${path}: type \`${String(o.type)}\` is not supported`);
      return { kind: 'any' };
  }
}

const typeName = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`);

/** The first mismatch as `$.path: message`, or null when the value conforms. */
export function validate(node: SchemaNode, value: unknown, path = '$'): string | null {
  switch (node.kind) {
    case 'any':
      return null;
    case 'string':
    case 'boolean':
      return typeof value === node.kind ? null : `${path}: expected a ${node.kind}, got ${typeName(value)}`;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value)
        ? null
        : `${path}: expected a number, got ${typeName(value)}`;
    case 'array': {
      if (!Array.isArray(value)) return `${path}: expected an array, got ${typeName(value)}`;
      for (const [i, item] of value.entries()) {
        const err = validate(node.items, item, `${path}[${i}]`);
        if (err) return err;
      }
      return null;
    }
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        return `${path}: expected an object, got ${typeName(value)}`;
      const obj = value as Record<string, unknown>;
      for (const [name, sub] of Object.entries(node.fields)) {
        if (obj[name] === undefined || obj[name] === null) return `${path}.${name}: missing required field`;
        const err = validate(sub, obj[name], `${path}.${name}`);
        if (err) return err;
      }
      for (const [name, sub] of Object.entries(node.optional_fields)) {
        if (obj[name] === undefined || obj[name] === null) continue;
        const err = validate(sub, obj[name], `${path}.${name}`);
        if (err) return err;
      }
      for (const name of Object.keys(obj))
        if (!(name in node.fields) && !(name in node.optional_fields))
          return `${path}: unknown field \`${name}\``;
      return null;
    }
  }
}

/** Trims and unwraps a single Markdown code fence, then parses exactly one JSON value. */
export function extractJson(text: string): { value: unknown } | { error: string } {
  let t = text.trim();
  const fence = /^```[a-zA-Z0-9_-]*\n([\s\S]*?)\n?```$/.exec(t);
  if (fence) t = fence[1]!.trim();
  try {
    return { value: JSON.parse(t) };
  } catch {
    return { error: '$: the reply is not exactly one JSON value' };
  }
}

/** Canonical minified JSON: object keys sorted, so equal values always render the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

export function repairMessage(error: string, schema: Record<string, unknown>): string {
  return [
    `Your previous reply does not satisfy the required output contract: ${error}.`,
    `The reply must be a single JSON value matching this JSON Schema:\n${JSON.stringify(schema, null, 2)}`,
    'Reply with only the corrected JSON, no prose and no code fence.',
  ].join('\n\n');
}

export function clampRepairs(n: number | undefined): number {
  return Math.min(MAX_REPAIR_ATTEMPTS, Math.max(0, n ?? DEFAULT_REPAIR_ATTEMPTS));
}
