// Table types of recovered run memory (migration 0035, concepts §4.9). JSON columns are text.
import type { Generated } from 'kysely';

/** One terminal run's sanitized memory record; `search_text` is what the full-text index reads. */
export interface RunMemoriesTable {
  /** Integer key of the full-text index (src/store/full-text.ts). */
  seq: Generated<number>;
  run_id: string;
  session_id: string;
  captured_at_ms: number;
  status: string;
  summary: string;
  request_preview: string | null;
  outcome_preview: string | null;
  /** JSON string arrays. */
  artifact_ids: string;
  failure_markers: string;
  scope_keys: string;
  semantic_capture: string;
  /** The record's words, normalized (textTokens), space-separated. */
  search_text: string;
}
