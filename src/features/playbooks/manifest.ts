// Structural validation of a Playbook manifest (api-collab §3.3) and its canonical digest
// (decision 390): lowercase hex SHA-256 of the canonical JSON of the manifest: object keys sorted
// by code unit, no insignificant whitespace, fields whose value is null/undefined omitted at every
// level, and top-level empty arrays omitted (an absent list and an empty one mean the same).
import { createHash } from 'node:crypto';
import type { PlaybookManifest } from './schema.ts';

export interface ValidationResult {
  valid: boolean;
  digest?: string;
  errors: string[];
  warnings: string[];
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v == null ? 'null' : canonical(v))).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] != null)
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The bytes the digest covers (also what is stored). */
export function canonicalManifest(manifest: PlaybookManifest): string {
  const body: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(manifest)) {
    if (v == null || (Array.isArray(v) && v.length === 0)) continue;
    body[k] = v;
  }
  return canonical(body);
}

export const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

export const manifestDigest = (manifest: PlaybookManifest) => sha256Hex(canonicalManifest(manifest));

const badId = (s: string) => s.length === 0 || /[\s/\\]/.test(s);
const blank = (s: string | undefined) => !s || s.trim().length === 0;

function duplicates(values: string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const v of values) (seen.has(v) ? dup : seen).add(v);
  return [...dup];
}

function checkEvidence(
  where: string,
  refs: { kind: string; id: string }[] | undefined,
  errors: string[],
): void {
  for (const [i, r] of (refs ?? []).entries()) {
    if (blank(r.kind)) errors.push(`${where}[${i}].kind must not be blank`);
    if (blank(r.id)) errors.push(`${where}[${i}].id must not be blank`);
  }
  for (const d of duplicates((refs ?? []).map((r) => `${r.kind}:${r.id}`)))
    errors.push(`${where} lists ${d} more than once`);
}

export function validateManifest(m: PlaybookManifest): ValidationResult {
  const errors: string[] = [];
  const warnings: string[] = [];
  if (badId(m.playbook_id)) errors.push('playbook_id must be non-empty without whitespace, "/" or "\\"');
  if (badId(m.version)) errors.push('version must be non-empty without whitespace, "/" or "\\"');
  if (blank(m.title)) errors.push('title must not be blank');
  if (blank(m.objective)) errors.push('objective must not be blank');
  for (const [i, p] of (m.phases ?? []).entries()) {
    if (badId(p.phase_id))
      errors.push(`phases[${i}].phase_id must be non-empty without whitespace, "/" or "\\"`);
    if (blank(p.objective)) errors.push(`phases[${i}].objective must not be blank`);
    checkEvidence(`phases[${i}].required_evidence`, p.required_evidence, errors);
  }
  for (const d of duplicates((m.inputs ?? []).map((x) => x.name)))
    errors.push(`input name ${d} is not unique`);
  for (const d of duplicates((m.roles ?? []).map((x) => x.role_id)))
    errors.push(`role_id ${d} is not unique`);
  for (const d of duplicates((m.phases ?? []).map((x) => x.phase_id)))
    errors.push(`phase_id ${d} is not unique`);
  checkEvidence('required_evidence', m.required_evidence, errors);
  const allow = m.tools?.allow ?? [];
  const deny = m.tools?.deny ?? [];
  for (const t of allow.filter((t) => deny.includes(t))) errors.push(`tool ${t} is both allowed and denied`);
  if (m.tools?.enforce && allow.length === 0 && deny.length === 0)
    errors.push('tools.enforce=true needs at least one allow or deny entry');
  if (!m.phases?.length) warnings.push('the manifest has no phases');
  if (!m.acceptance_criteria?.length) warnings.push('the manifest has no top-level acceptance criteria');
  const valid = errors.length === 0;
  return valid ? { valid, digest: manifestDigest(m), errors, warnings } : { valid, errors, warnings };
}
