// Boards (api-collab §5): mutable board records with an immutable, linear revision history. A
// revision names a render image and optionally a state document, both daemon assets; they and every
// asset the state embeds become hard references of the revision in its own transaction, so asset
// deletion and GC never take them. `previous_revision_id` is the compare-and-swap base.
import { createHash } from 'node:crypto';
import { monotonicFactory } from 'ulid';
import { canonicalJson } from '../../engine/output-contract.ts';
import { DaemonError, errors } from '../../errors/daemon-error.ts';
import type { EventLog } from '../../store/event-log.ts';
import {
  type BoardRevisionRow,
  type BoardRow,
  getBoard,
  getRevision,
  getRevisionByClientId,
  insertBoard,
  insertRevision,
  listBoards,
  listRevisions,
  maxSequence,
  revisionCounts,
  updateBoard,
} from '../../store/repos/boards.ts';
import { getSession } from '../../store/repos/sessions.ts';
import type { Store } from '../../store/store.ts';
import type { AssetsPort } from '../assets/port.ts';
import type {
  BoardRevisionView,
  BoardView,
  CreateBoardRequest,
  CreateRevisionRequest,
  UpdateBoardRequest,
} from './schema.ts';
import { parseState, stateInvalid } from './state.ts';

const ulid = monotonicFactory();

export const boardNotFound = (id: string) =>
  new DaemonError(404, 'boards', 'board_not_found', `board ${id} was not found`);
const revisionNotFound = (b: string, r: string) =>
  new DaemonError(404, 'boards', 'board_revision_not_found', `board ${b} has no revision ${r}`);
export const revisionConflict = (boardId: string, tip: string | null, given: string | null) =>
  new DaemonError(
    409,
    'boards',
    'board_revision_conflict',
    `board ${boardId} is at revision ${tip ?? '(none)'}, not ${given ?? '(none)'}: read the latest revision and retry on it`,
  );
const assetMissing = (detail: string) => new DaemonError(400, 'boards', 'board_asset_missing', detail);

const json = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));
const parse = (v: string | null) => (v === null ? null : (JSON.parse(v) as Record<string, unknown>));

/** The fields that make two posts of one client_revision_id "the same payload". */
function digestOf(b: CreateRevisionRequest): string {
  const canonical = {
    previous_revision_id: b.previous_revision_id ?? null,
    render_asset_id: b.render_asset_id,
    state_asset_id: b.state_asset_id ?? null,
    note: b.note ?? null,
    source_session_id: b.source_session_id ?? null,
    source_run_id: b.source_run_id ?? null,
    metadata: b.metadata ?? null,
  };
  return createHash('sha256').update(canonicalJson(canonical)).digest('hex');
}

export interface RevisionAssets {
  render_asset_id: string;
  state_asset_id: string | null;
  embedded: string[];
}

export class BoardsService {
  readonly store: Store;
  private readonly assets: () => AssetsPort;
  /** What the last startup repair found (status section). */
  repair = { checked_revisions: 0, quarantined_revisions: 0, boards: 0, at_ms: 0 };

  /** Set by the feature: the global event stream each accepted revision is announced on. */
  events: EventLog | null = null;

  constructor(store: Store, assets: () => AssetsPort) {
    this.store = store;
    this.assets = assets;
  }

  async boardView(r: BoardRow): Promise<BoardView> {
    const counts = await revisionCounts(this.store.db, r.board_id);
    const tip = r.tip_revision_id
      ? await getRevision(this.store.db, r.board_id, r.tip_revision_id)
      : undefined;
    return {
      board_id: r.board_id,
      display_name: r.display_name,
      owner_session_id: r.owner_session_id,
      metadata: parse(r.metadata),
      latest_revision_id: r.tip_revision_id,
      latest_render_asset_id: tip?.render_asset_id ?? null,
      latest_state_asset_id: tip?.state_asset_id ?? null,
      revision_count: counts.accepted,
      quarantined_revision_count: counts.quarantined,
      created_at_ms: Number(r.created_at_ms),
      updated_at_ms: Number(r.updated_at_ms),
    };
  }

  revisionView(r: BoardRevisionRow): BoardRevisionView {
    return {
      revision_id: r.revision_id,
      board_id: r.board_id,
      sequence: Number(r.sequence),
      previous_revision_id: r.previous_revision_id,
      client_revision_id: r.client_revision_id,
      render_asset_id: r.render_asset_id,
      state_asset_id: r.state_asset_id,
      note: r.note,
      source_session_id: r.source_session_id,
      source_run_id: r.source_run_id,
      metadata: parse(r.metadata),
      status: r.status === 'quarantined' ? 'quarantined' : 'accepted',
      quarantine_reason: r.quarantine_reason,
      created_at_ms: Number(r.created_at_ms),
    };
  }

  async create(body: CreateBoardRequest): Promise<BoardView> {
    const id = body.board_id ?? `board-${ulid().toLowerCase()}`;
    if (/^\.+$/.test(id) || [...id].some((c) => c === '/' || c === '\\' || c < ' '))
      throw errors.badRequest(
        'board_id must not be "." or "..", nor hold slashes or control characters',
        'boards',
        'invalid_board',
      );
    const owner = body.owner_session_id ?? null;
    if (owner && !(await getSession(this.store.db, owner))) throw errors.sessionNotFound(owner);
    const row = await this.store.write(async (tx) => {
      if (await getBoard(tx.db, id))
        throw new DaemonError(409, 'boards', 'board_already_exists', `board ${id} already exists`);
      const r: BoardRow = {
        board_id: id,
        display_name: body.display_name ?? id,
        owner_session_id: owner,
        metadata: json(body.metadata),
        tip_revision_id: null,
        created_at_ms: tx.now,
        updated_at_ms: tx.now,
      };
      await insertBoard(tx.db, r);
      return r;
    });
    return this.boardView(row);
  }

  async row(id: string): Promise<BoardRow> {
    const r = await getBoard(this.store.db, id);
    if (!r) throw boardNotFound(id);
    return r;
  }

  async get(id: string): Promise<BoardView> {
    return this.boardView(await this.row(id));
  }

  async update(id: string, body: UpdateBoardRequest): Promise<BoardView> {
    const row = await this.store.write(async (tx) => {
      const r = await getBoard(tx.db, id);
      if (!r) throw boardNotFound(id);
      const patch: Partial<BoardRow> = { updated_at_ms: tx.now };
      if (body.display_name !== undefined) patch.display_name = body.display_name;
      if (body.metadata !== undefined) patch.metadata = json(body.metadata);
      await updateBoard(tx.db, id, patch);
      return { ...r, ...patch };
    });
    return this.boardView(row);
  }

  async list(q: { query?: string; owner_session_id?: string }): Promise<BoardView[]> {
    const rows = await listBoards(this.store.db, q);
    return Promise.all(rows.map((r) => this.boardView(r)));
  }

  async revisions(boardId: string): Promise<BoardRevisionView[]> {
    await this.row(boardId);
    return (await listRevisions(this.store.db, boardId)).map((r) => this.revisionView(r));
  }

  async revision(boardId: string, revisionId: string): Promise<BoardRevisionView> {
    await this.row(boardId);
    const r = await getRevision(this.store.db, boardId, revisionId);
    if (!r) throw revisionNotFound(boardId, revisionId);
    return this.revisionView(r);
  }

  /** The render must be a readable image; the state a valid envelope whose embedded assets are readable. */
  async checkAssets(
    boardId: string,
    previous: string | null,
    renderId: string,
    stateId: string | null,
  ): Promise<RevisionAssets> {
    const assets = this.assets();
    const render = await assets.get(renderId);
    if (!render) throw assetMissing(`render asset ${renderId} does not exist`);
    if (!render.media_type.startsWith('image/'))
      throw assetMissing(`render asset ${renderId} is ${render.media_type}, not an image`);
    await assets.readRaw(renderId).catch(() => {
      throw assetMissing(`render asset ${renderId} cannot be read back intact`);
    });
    if (!stateId) return { render_asset_id: renderId, state_asset_id: null, embedded: [] };
    const state = await assets.get(stateId);
    if (!state) throw stateInvalid(`state asset ${stateId} does not exist`);
    if (state.media_type !== 'application/json')
      throw stateInvalid(`state asset ${stateId} is ${state.media_type}, not application/json`);
    const bytes = await assets.readRaw(stateId).catch(() => {
      throw stateInvalid(`state asset ${stateId} cannot be read back intact`);
    });
    const { embedded } = parseState(bytes, { board_id: boardId, previous_revision_id: previous });
    for (const id of embedded) {
      if (!(await assets.get(id))) throw stateInvalid(`the state embeds asset ${id}, which does not exist`);
      await assets.readRaw(id).catch(() => {
        throw stateInvalid(`the state embeds asset ${id}, which cannot be read back intact`);
      });
    }
    return { render_asset_id: renderId, state_asset_id: stateId, embedded };
  }

  /** `created` is false for an idempotent replay of a client_revision_id (the original is returned). */
  async createRevision(
    boardId: string,
    body: CreateRevisionRequest,
  ): Promise<{ revision: BoardRevisionView; created: boolean }> {
    await this.row(boardId);
    const previous = body.previous_revision_id ?? null;
    const clientId = body.client_revision_id ?? null;
    const digest = digestOf(body);
    const replay = async (db = this.store.db): Promise<BoardRevisionView | null> => {
      if (!clientId) return null;
      const prior = await getRevisionByClientId(db, boardId, clientId);
      if (!prior) return null;
      if (prior.payload_digest !== digest)
        throw new DaemonError(
          409,
          'boards',
          'board_revision_idempotency_conflict',
          `client_revision_id ${clientId} was already used on board ${boardId} with a different payload (revision ${prior.revision_id})`,
        );
      return this.revisionView(prior);
    };
    const early = await replay();
    if (early) return { revision: early, created: false };
    const checked = await this.checkAssets(
      boardId,
      previous,
      body.render_asset_id,
      body.state_asset_id ?? null,
    );
    const outcome = await this.store.write(async (tx) => {
      const again = await replay(tx.db);
      if (again) return { revision: again, created: false };
      const board = await getBoard(tx.db, boardId);
      if (!board) throw boardNotFound(boardId);
      if (board.tip_revision_id !== previous)
        throw revisionConflict(boardId, board.tip_revision_id, previous);
      // Past the highest number ever used (quarantined rows keep theirs): two writers that both
      // passed the check above from different replicas then collide on the unique index.
      const top = await maxSequence(tx.db, boardId);
      const row: BoardRevisionRow = {
        revision_id: `rev-${ulid().toLowerCase()}`,
        board_id: boardId,
        sequence: top + 1,
        previous_revision_id: previous,
        client_revision_id: clientId,
        payload_digest: digest,
        render_asset_id: checked.render_asset_id,
        state_asset_id: checked.state_asset_id,
        note: body.note ?? null,
        source_session_id: body.source_session_id ?? null,
        source_run_id: body.source_run_id ?? null,
        metadata: json(body.metadata),
        status: 'accepted',
        quarantine_reason: null,
        created_at_ms: tx.now,
      };
      // Another replica may have taken this sequence number: the unique index says so.
      await tx
        .savepoint(() => insertRevision(tx.db, row))
        .catch(() => {
          throw revisionConflict(boardId, '(a concurrent revision)', previous);
        });
      await updateBoard(tx.db, boardId, { tip_revision_id: row.revision_id, updated_at_ms: tx.now });
      const ref = (asset_id: string, role: string) => ({
        asset_id,
        domain: 'boards',
        owner_id: row.revision_id,
        role,
        hard: true,
        parent_id: boardId,
      });
      await this.assets().addReferences(
        [
          ref(checked.render_asset_id, 'render'),
          ...(checked.state_asset_id ? [ref(checked.state_asset_id, 'state')] : []),
          ...checked.embedded.map((id) => ref(id, 'state_embedded_asset')),
        ],
        tx.db,
      );
      // Durable and in the revision's transaction: watchers of /v1/events see every new tip.
      await this.events?.append(tx, [
        {
          name: 'board_revision_created',
          data: {
            board_id: boardId,
            revision_id: row.revision_id,
            sequence: row.sequence,
            previous_revision_id: previous,
            source_session_id: row.source_session_id,
            source_run_id: row.source_run_id,
          },
        },
      ]);
      return { revision: this.revisionView(row), created: true };
    });
    return outcome;
  }
}
