// Text rules of the learning plane (concepts §4.10): the deterministic semantic key that makes
// "Project codename is Atlas" and "project codename: atlas" one learning, the subject key that
// finds conflicts (same subject, different value), secret and personal-data detection before
// anything is persisted, and the conservative term match used by verification and `query`.
import { createHash } from 'node:crypto';
import { maskPersonalData, maskTokenShapes } from '../../secrets/redact-text.ts';

const hash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 32);

/** Lower case, Unicode-folded, punctuation to spaces, one space between words. */
export function normalizeText(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** `Fact:`, `Preference:`, `Decision:` labels say what kind a line is, not what it says. */
const LABEL = /^\s*(?:fact|preference|decision)\s*:\s*/i;
const COLON = /^([^:=\n]{2,80}?)\s*[:=]\s*(\S.*)$/s;
const COPULA = /^(.{2,80}?)\s+(?:is|are|was|were|should be|must be|equals)\s+(\S.*)$/is;

/** The obvious subject and value of a statement; `subject` null when it has no such shape. */
export function subjectValue(content: string): { subject: string | null; value: string } {
  const text = content.replace(LABEL, '').trim();
  const m = COLON.exec(text) ?? COPULA.exec(text);
  if (m) {
    const subject = normalizeText(m[1]!);
    const value = normalizeText(m[2]!);
    // A long "subject" is a sentence, not a subject: no conflict detection on it.
    if (subject && value && subject.split(' ').length <= 6) return { subject, value };
  }
  return { subject: null, value: normalizeText(text) };
}

/** Equivalent phrasings of one subject/value share this key. */
export function semanticKey(content: string): string {
  const { subject, value } = subjectValue(content);
  return hash(subject === null ? value : `${subject}\u0000${value}`);
}

/** The key of the subject alone, for conflicts; null when the content has no obvious subject. */
export function subjectKey(content: string): string | null {
  const { subject } = subjectValue(content);
  return subject === null ? null : hash(subject);
}

// Assignment names the spec calls out, plus the common credential words, followed by `:` or `=`.
const SECRET_ASSIGNMENT =
  /\b(?:x[-_ ]?)?api[-_ ]?key\s*[:=]|\bclient[-_ ]?secret\s*[:=]|\bsecret[-_ ]?token\s*[:=]|\bpersonal[-_ ]access[-_ ]token\s*[:=]|\baccess[-_ ]?token\s*[:=]|\bpassword\s*[:=]|\bprivate[-_ ]?key\s*[:=]/i;
const REDACTION_MARKER = /\[redacted[\]:]/i;

/** Whether text looks like it carries a credential (the shared masks change it, or a known name). */
export function looksSecret(text: string): boolean {
  return maskTokenShapes(text) !== text || SECRET_ASSIGNMENT.test(text) || REDACTION_MARKER.test(text);
}

/** Whether text carries personal data the shared masks hide (e-mail, SSN-, card-like numbers). */
export function looksPersonal(text: string): boolean {
  return maskPersonalData(text) !== text;
}

/** Both masks: what daemon-written review material keeps of a run's text. */
export const maskAll = (text: string): string => maskPersonalData(maskTokenShapes(text));

const STOP = new Set(
  'a an and are as at be by for from in is it of on or our that the this to was we were with use uses using should must'.split(
    ' ',
  ),
);

/** Meaningful terms: normalized words that are not stop words. */
export function terms(text: string): string[] {
  return normalizeText(text)
    .split(' ')
    .filter((w) => w.length > 1 && !STOP.has(w));
}

/** `query` filters: every query term is a word of the text (deterministic, case-insensitive). */
export function matchesQuery(text: string, query: string): boolean {
  const words = new Set(normalizeText(text).split(' '));
  const wanted = terms(query);
  const all = wanted.length ? wanted : normalizeText(query).split(' ').filter(Boolean);
  return all.every((t) => words.has(t));
}

/**
 * Verification support: the content (label removed) is contained in the evidence text, or every
 * one of its meaningful terms (at least two) appears there. Conservative on purpose: a single
 * shared word proves nothing.
 */
export function supportedBy(content: string, evidence: string): boolean {
  const claim = normalizeText(content.replace(LABEL, ''));
  const text = normalizeText(evidence);
  if (!claim || !text) return false;
  if (text.includes(claim)) return true;
  const words = new Set(text.split(' '));
  const needed = terms(claim);
  return needed.length >= 2 && needed.every((t) => words.has(t));
}
