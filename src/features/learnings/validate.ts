// Field rules shared by candidate creation, publication overrides and supersession (api-collab
// §4.1, §4.3): scopes (workspace id is always `default`), the 1600-character content limit, the
// 0..=100 confidence scale, and the refusal of secret-looking or personal text before persistence.
import type { DaemonError } from '../../errors/daemon-error.ts';
import { learningErrors as E } from './errors.ts';
import { CONTENT_LIMIT, type ScopeInput } from './schema.ts';
import { looksPersonal, looksSecret } from './semantic.ts';

type Bad = (detail: string) => DaemonError;

/** `{kind, id}` with the workspace id normalized to `default`; other kinds need an id. */
export function scopeOf(scope: ScopeInput, bad: Bad): { kind: string; id: string } {
  if (scope.kind === 'workspace') {
    if (scope.id !== undefined && scope.id !== 'default' && scope.id !== '')
      throw bad('the workspace scope id is always `default`');
    return { kind: 'workspace', id: 'default' };
  }
  if (!scope.id?.trim()) throw bad(`a ${scope.kind} scope needs an id`);
  return { kind: scope.kind, id: scope.id };
}

export function checkContent(content: string, bad: Bad): string {
  const text = content.trim();
  if (!text) throw bad('content is required');
  if ([...text].length > CONTENT_LIMIT) throw bad(`content is limited to ${CONTENT_LIMIT} characters`);
  if (looksSecret(text) || looksPersonal(text)) throw E.secretContent('content');
  return text;
}

export function checkConfidence(confidence: number | undefined, fallback: number, bad: Bad): number {
  const c = confidence ?? fallback;
  if (!Number.isInteger(c) || c < 0 || c > 100) throw bad('confidence must be a whole number from 0 to 100');
  return c;
}

export function checkReason(reason: string | undefined | null): string | null {
  if (reason === undefined || reason === null || reason.trim() === '') return null;
  if (looksSecret(reason) || looksPersonal(reason)) throw E.secretContent('reason');
  return reason.trim();
}

/** Evidence refs are stored as given, so they are held to the same rule as content. */
export function checkEvidence(refs: unknown[] | undefined): unknown[] {
  const list = refs ?? [];
  const text = JSON.stringify(list);
  if (looksSecret(text) || looksPersonal(text)) throw E.secretContent('evidence_refs');
  return list;
}

/** List filters: `scope_id` needs `scope_kind`; only workspace may omit the id (→ `default`). */
export function scopeFilter(q: { scope_kind?: string; scope_id?: string }): { kind?: string; id?: string } {
  if (q.scope_id !== undefined && q.scope_kind === undefined)
    throw E.invalidFilter('scope_id needs scope_kind');
  if (q.scope_kind === undefined) return {};
  if (q.scope_kind === 'workspace') {
    if (q.scope_id !== undefined && q.scope_id !== 'default')
      throw E.invalidFilter('the workspace scope id is always `default`');
    return { kind: 'workspace', id: 'default' };
  }
  if (!q.scope_id) throw E.invalidFilter(`scope_kind=${q.scope_kind} needs scope_id`);
  return { kind: q.scope_kind, id: q.scope_id };
}
