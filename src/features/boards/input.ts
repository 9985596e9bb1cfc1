// `board_reference` input items (api-collab §5): resolved when the run is submitted, for the
// submitting session, into what the model reads: a short text naming the board and revision with a
// summary of its state, then the revision's render as an ordinary `asset_reference` (so the run's
// stored request pins the exact revision, the render gets the run's hard reference, and the
// multimodal renderer encodes it per route like any image). docs/decisions.md #413.

import type { InputItem } from '../../engine/types.ts';
import { DaemonError } from '../../errors/daemon-error.ts';
import { getRevision } from '../../store/repos/boards.ts';
import type { AssetsPort } from '../assets/port.ts';
import type { BoardInputResolver } from '../multimodal/input-assets.ts';
import { type BoardsService, boardNotFound } from './service.ts';

const SUMMARY_LIMIT = 2000;

/** A board is visible to its owner session, and to every caller when it has no owner. */
export function visibleTo(owner: string | null, sessionId: string | null): boolean {
  return owner === null || owner === sessionId;
}

/** One paragraph about a state document: canvas, element kinds, the words written on it, the note. */
export function summarizeState(state: Record<string, unknown>): string {
  const parts: string[] = [];
  const canvas = state.canvas as { width?: unknown; height?: unknown } | undefined;
  if (canvas && typeof canvas === 'object')
    parts.push(`canvas ${canvas.width ?? '?'}x${canvas.height ?? '?'}`);
  const elements = Array.isArray(state.elements) ? (state.elements as Record<string, unknown>[]) : [];
  const kinds = new Map<string, number>();
  const words: string[] = [];
  for (const e of elements) {
    const kind = typeof e?.kind === 'string' ? e.kind : typeof e?.type === 'string' ? e.type : 'element';
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    if (typeof e?.text === 'string' && e.text.trim()) words.push(JSON.stringify(e.text.trim()));
  }
  parts.push(
    `${elements.length} element(s)${kinds.size ? ` (${[...kinds].map(([k, n]) => `${k} x${n}`).join(', ')})` : ''}`,
  );
  if (Array.isArray(state.strokes)) parts.push(`${state.strokes.length} stroke(s)`);
  if (Array.isArray(state.layers)) parts.push(`${state.layers.length} layer(s)`);
  if (words.length) parts.push(`text on the board: ${words.join(', ')}`);
  if (typeof state.note === 'string' && state.note.trim()) parts.push(`note: ${state.note.trim()}`);
  return parts.join('; ');
}

export class BoardInput implements BoardInputResolver {
  private readonly boards: BoardsService;
  private readonly assets: () => AssetsPort;
  constructor(boards: BoardsService, assets: () => AssetsPort) {
    this.boards = boards;
    this.assets = assets;
  }

  async resolve(item: InputItem, sessionId: string | null): Promise<InputItem[]> {
    const boardId = String(item.board_id ?? '');
    const board = await this.boards.row(boardId);
    // Another session's board is as unknown as a missing one (no existence leak).
    if (!visibleTo(board.owner_session_id, sessionId)) throw boardNotFound(boardId);
    const pinned = typeof item.revision_id === 'string' && item.revision_id !== '' ? item.revision_id : null;
    const revisionId = pinned ?? board.tip_revision_id;
    if (!revisionId)
      throw new DaemonError(409, 'boards', 'board_has_no_revision', `board ${boardId} has no revision yet`);
    const rev = await getRevision(this.boards.store.db, boardId, revisionId);
    if (!rev)
      throw new DaemonError(
        404,
        'boards',
        'board_revision_not_found',
        `board ${boardId} has no revision ${revisionId}`,
      );
    if (rev.status !== 'accepted')
      throw new DaemonError(
        409,
        'boards',
        'board_revision_quarantined',
        `revision ${revisionId} of board ${boardId} was quarantined (${rev.quarantine_reason ?? 'invalid'})`,
      );
    let summary = 'no state document';
    if (rev.state_asset_id) {
      const bytes = await this.assets().readRaw(rev.state_asset_id);
      summary = summarizeState(JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>);
    }
    const head = `[board "${board.display_name}" (${board.board_id}), revision ${rev.revision_id}${pinned ? '' : ' (latest)'}: ${summary}]`;
    const text = head.length > SUMMARY_LIMIT ? `${head.slice(0, SUMMARY_LIMIT - 2)}…]` : head;
    return [
      { type: 'text', text },
      { type: 'asset_reference', asset_id: rev.render_asset_id },
    ];
  }
}
