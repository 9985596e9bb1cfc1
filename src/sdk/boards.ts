// Boards API client calls (api-collab §5): board records and their linear, immutable revisions.
// A revision names a render image and optionally a state document, both uploaded as assets first.
import type { DaemonClient, RequestOptions } from './client.ts';
import type { JsonObject } from './types.ts';

export interface BoardView extends JsonObject {
  board_id: string;
  display_name: string;
  owner_session_id: string | null;
  metadata: JsonObject | null;
  latest_revision_id: string | null;
  latest_render_asset_id: string | null;
  latest_state_asset_id: string | null;
  revision_count: number;
  quarantined_revision_count: number;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface BoardRevisionView extends JsonObject {
  revision_id: string;
  board_id: string;
  sequence: number;
  previous_revision_id: string | null;
  client_revision_id: string | null;
  render_asset_id: string;
  state_asset_id: string | null;
  note: string | null;
  source_session_id: string | null;
  source_run_id: string | null;
  metadata: JsonObject | null;
  status: 'accepted' | 'quarantined';
  quarantine_reason: string | null;
  created_at_ms: number;
}

export interface CreateBoardRequest {
  board_id?: string;
  display_name?: string;
  owner_session_id?: string | null;
  metadata?: JsonObject | null;
}

export interface UpdateBoardRequest {
  display_name?: string;
  metadata?: JsonObject | null;
}

export interface CreateBoardRevisionRequest {
  /** The current tip (compare-and-swap base); null or absent for the first revision. */
  previous_revision_id?: string | null;
  client_revision_id?: string | null;
  render_asset_id: string;
  state_asset_id?: string | null;
  note?: string | null;
  source_session_id?: string | null;
  source_run_id?: string | null;
  metadata?: JsonObject | null;
}

const enc = encodeURIComponent;

function call<T>(http: DaemonClient, method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  return http.request(method, path, opts) as Promise<T>;
}

export class BoardsResource {
  private readonly http: DaemonClient;

  constructor(http: DaemonClient) {
    this.http = http;
  }

  list(query: { query?: string; owner_session_id?: string } = {}): Promise<BoardView[]> {
    return call(this.http, 'GET', '/v1/boards', { query: { ...query } as RequestOptions['query'] });
  }

  /** POST /v1/boards: 201 BoardView (board_id generated when left out). */
  create(body: CreateBoardRequest): Promise<BoardView> {
    return call(this.http, 'POST', '/v1/boards', { body });
  }

  get(boardId: string): Promise<BoardView> {
    return call(this.http, 'GET', `/v1/boards/${enc(boardId)}`);
  }

  update(boardId: string, body: UpdateBoardRequest): Promise<BoardView> {
    return call(this.http, 'PUT', `/v1/boards/${enc(boardId)}`, { body });
  }

  /** Every revision in order, quarantined ones included (their `status` says so). */
  revisions(boardId: string): Promise<BoardRevisionView[]> {
    return call(this.http, 'GET', `/v1/boards/${enc(boardId)}/revisions`);
  }

  revision(boardId: string, revisionId: string): Promise<BoardRevisionView> {
    return call(this.http, 'GET', `/v1/boards/${enc(boardId)}/revisions/${enc(revisionId)}`);
  }

  /**
   * 201 a new revision, 200 the original one for a repeated client_revision_id; 409
   * boards/board_revision_conflict when `previous_revision_id` is not the tip.
   */
  createRevision(boardId: string, body: CreateBoardRevisionRequest): Promise<BoardRevisionView> {
    return call(this.http, 'POST', `/v1/boards/${enc(boardId)}/revisions`, { body });
  }
}
