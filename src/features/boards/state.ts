// The board state envelope (api-collab §5): a versioned JSON document kept as an asset. Pure checks,
// shared by revision creation, startup repair and board_draw: the envelope, its schema version, the
// board and parent it names, that it carries content, and every asset id embedded anywhere in it.
import { DaemonError } from '../../errors/daemon-error.ts';

export const STATE_SCHEMA_VERSIONS: readonly unknown[] = [1, '1', 'kheish.board_state.v1'];
export const CONTENT_FIELDS = [
  'canvas',
  'elements',
  'strokes',
  'layers',
  'assets',
  'metadata',
  'payload',
  'note',
] as const;
const EMBEDDED_ONE = new Set(['asset_id', 'image_asset_id']);
const EMBEDDED_MANY = new Set(['asset_ids', 'image_asset_ids']);

export const stateInvalid = (detail: string) => new DaemonError(400, 'boards', 'board_state_invalid', detail);

/** Null, blank text, and empty arrays/objects carry nothing (a placeholder state). */
function hasContent(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === 'string') return v.trim() !== '';
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/** Every asset id the state embeds: `assets` entries and `asset_id(s)`/`image_asset_id(s)` at any depth. */
export function embeddedAssetIds(state: Record<string, unknown>): string[] {
  const ids = new Set<string>();
  const bad = (where: string) => stateInvalid(`${where} must be a non-empty asset id string`);
  const walk = (v: unknown, path: string): void => {
    if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) walk(x, `${path}[${i}]`);
      return;
    }
    if (!v || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v)) {
      const at = `${path}.${k}`;
      if (EMBEDDED_ONE.has(k)) {
        if (x === null) continue;
        if (typeof x !== 'string' || x.trim() === '') throw bad(at);
        ids.add(x);
      } else if (EMBEDDED_MANY.has(k)) {
        if (x === null) continue;
        if (!Array.isArray(x)) throw stateInvalid(`${at} must be an array of asset ids`);
        for (const [i, y] of x.entries()) {
          if (typeof y !== 'string' || y.trim() === '') throw bad(`${at}[${i}]`);
          ids.add(y);
        }
      } else walk(x, at);
    }
  };
  const assets = state.assets;
  if (Array.isArray(assets)) for (const a of assets) if (typeof a === 'string' && a.trim() !== '') ids.add(a);
  walk(state, '$');
  return [...ids];
}

export interface StateExpectation {
  board_id: string;
  /** The parent the revision is created on (null for the first revision). */
  previous_revision_id: string | null;
}

/** Parses and checks a state document; returns it with the asset ids it embeds. */
export function parseState(
  bytes: Uint8Array,
  expect: StateExpectation,
): { state: Record<string, unknown>; embedded: string[] } {
  let state: unknown;
  try {
    state = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw stateInvalid('the state asset is not valid JSON');
  }
  if (!state || typeof state !== 'object' || Array.isArray(state))
    throw stateInvalid('the state asset must be a JSON object (the board state envelope)');
  const s = state as Record<string, unknown>;
  if (!('schema_version' in s)) throw stateInvalid('the state has no schema_version');
  if (!STATE_SCHEMA_VERSIONS.includes(s.schema_version))
    throw stateInvalid(
      `schema_version ${JSON.stringify(s.schema_version)} is not supported (accepted: 1, "1", "kheish.board_state.v1")`,
    );
  if (s.board_id !== undefined && s.board_id !== null && s.board_id !== expect.board_id)
    throw stateInvalid(`the state names board ${String(s.board_id)}, not ${expect.board_id}`);
  if (
    s.previous_revision_id !== undefined &&
    s.previous_revision_id !== null &&
    s.previous_revision_id !== expect.previous_revision_id
  )
    throw stateInvalid(
      `the state names parent revision ${String(s.previous_revision_id)}, not ${expect.previous_revision_id ?? '(none)'}`,
    );
  if (!CONTENT_FIELDS.some((f) => hasContent(s[f])))
    throw stateInvalid(`the state is empty: give content in one of ${CONTENT_FIELDS.join(', ')}`);
  return { state: s, embedded: embeddedAssetIds(s) };
}
