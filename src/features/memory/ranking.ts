// Deterministic lexical ranking (concepts §4.9/§4.10, api-core §3.5): the words of a query are
// normalized (Unicode-aware tokens, common stop words out, a light suffix strip), and an item's score
// is the share of those words it contains, rounded so both stores and every run agree. Order: score,
// then newest first, then id — recency is the tie-breaker and the fallback when nothing scores.
import { textTokens } from '../../store/full-text.ts';

const STOP_WORDS = new Set(
  (
    'a an and are as at be been but by can could did do does for from had has have how i if in into is it ' +
    'its me my no not of on or our please should so than that the their them then there these they this ' +
    'to was we were what when where which who why will with would you your'
  ).split(' '),
);

/** A word's comparable form: plural and tense endings dropped from longer words. */
export function stem(word: string): string {
  if (word.length <= 4 || /^\d+$/.test(word)) return word;
  let w = word;
  for (const suffix of ['ingly', 'ings', 'ing', 'edly', 'ed', 'ies', 'es', 's'])
    if (w.endsWith(suffix) && w.length - suffix.length >= 3) {
      w = suffix === 'ies' ? `${w.slice(0, -3)}y` : w.slice(0, -suffix.length);
      break;
    }
  // A final e goes too, so `stage`, `stages` and `staging` (or `certificate` and `certificates`)
  // meet at one form.
  return w.length > 4 && w.endsWith('e') ? w.slice(0, -1) : w;
}

/**
 * What the full-text index is asked for a stemmed term: a prefix every word with that stem begins
 * with (`policy` came from `policies` too, so `polic`). It only narrows; scoring compares stems.
 */
export function indexPrefix(term: string): string {
  return term.length > 4 && term.endsWith('y') ? term.slice(0, -1) : term;
}

/** The distinct comparable words of a query (stop words and one-letter words left out). */
export function queryTerms(text: string): string[] {
  const out = new Set<string>();
  for (const t of textTokens(text)) if (t.length > 1 && !STOP_WORDS.has(t)) out.add(stem(t));
  return [...out];
}

/** The comparable words of an item's field. */
export function fieldTerms(text: string | null | undefined): Set<string> {
  return new Set(textTokens(text ?? '').map(stem));
}

export interface Scored<T> {
  item: T;
  score: number;
  matched_fields: string[];
  timestamp_ms: number;
  id: string;
}

/**
 * Scores one item: the share of query terms found in any of its fields (0..1, four decimals) and
 * the fields that hold at least one of them. No terms: score 0, nothing matched.
 */
export function scoreFields(terms: readonly string[], fields: Record<string, string | null | undefined>) {
  if (terms.length === 0) return { score: 0, matched_fields: [] as string[] };
  const hit = new Set<string>();
  const matched: string[] = [];
  for (const [name, text] of Object.entries(fields)) {
    const words = fieldTerms(text);
    let any = false;
    for (const t of terms)
      if (words.has(t)) {
        hit.add(t);
        any = true;
      }
    if (any) matched.push(name);
  }
  return { score: Math.round((hit.size / terms.length) * 10_000) / 10_000, matched_fields: matched };
}

/** Best first: score, then newest, then id (a stable order for equal items). */
export function byRank<T>(a: Scored<T>, b: Scored<T>): number {
  return b.score - a.score || b.timestamp_ms - a.timestamp_ms || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Input that asks for durable memory by name keeps the recency fallback when nothing scores. */
export function isExplicitMemoryRequest(text: string): boolean {
  return /\b(remember|recall|memor(y|ies|ize)|what do you know|you (learned|know about)|learned|previous(ly)?|last time|earlier run|durable)\b/i.test(
    text,
  );
}

/** Markdown fences in remembered text cannot open a block in the prompt (concepts §4.9). */
export function neutralizeFences(text: string): string {
  return text.replace(/`{3,}/g, (m) => "'".repeat(m.length)).replace(/~{3,}/g, (m) => '-'.repeat(m.length));
}
