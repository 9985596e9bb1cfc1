// Files in a run's input (api-core §3.6, concepts §4.6). The engine keeps one provider-neutral form:
// the stored request and the journal name assets by id (`asset_reference`), never bytes; inline
// uploads are imported before the run is written; the run's references commit with its row; the
// bytes are read and encoded for the route only at model-call time. The assets store is a feature:
// it reaches the engine through InputAssetsPort, installed by the multimodal feature.
import type { RouteConfig } from '../config/routes-file.ts';
import { DaemonError, errors } from '../errors/daemon-error.ts';
import type { ChatMessage, UserPart } from '../models/driver.ts';
import type { RouteInventory } from '../models/route-inventory.ts';
import type { RunRow } from '../store/repos/runs.ts';
import { getSession } from '../store/repos/sessions.ts';
import type { Executor } from '../store/schema.ts';
import type { WriteTx } from '../store/store.ts';
import { pinRoute } from './new-run.ts';
import type { InputItem, StoredRunRequest } from './types.ts';

export interface InputAssetsPort {
  /**
   * Imports `inline_asset` items (validated and stored by the assets store) and checks that every
   * `asset_reference` names a live asset; returns the items with inline uploads replaced by
   * references, in the same order; a `board_reference` becomes its revision's render (an
   * `asset_reference`) and a text summary of its state, resolved for `sessionId` (api-collab §5).
   * Throws a 4xx DaemonError (domain `assets` or `boards`) and stores nothing run-related when an
   * item is refused.
   */
  prepareItems(items: InputItem[], signal?: AbortSignal, sessionId?: string | null): Promise<InputItem[]>;
  /** Refuses input the pinned route can never use (an image without text on a text-only route). */
  checkRoute(items: InputItem[], route: RouteConfig): Promise<void>;
  /**
   * Hard references from the owner of an input (a run's `input_attachment`, a schedule's), written
   * inside the transaction that creates the owner, so the files cannot be deleted under it.
   */
  reference(tx: WriteTx, owner: InputOwner, assetIds: string[]): Promise<void>;
  /** Drops the references an owner holds (a schedule that completed or was canceled). */
  release(tx: WriteTx, owner: { domain: string; owner_id: string }): Promise<void>;
  /** Just before a model call: asset parts become image/file/text parts the route can take. */
  render(messages: ChatMessage[], route: RouteConfig, signal: AbortSignal): Promise<ChatMessage[]>;
}

export interface InputOwner {
  domain: string;
  owner_id: string;
  role: string;
  parent_id: string | null;
}

/** The owner of a run's input files (api-core §7.2 references). */
export const runInputOwner = (run: RunRow): InputOwner => ({
  domain: 'runs',
  owner_id: run.run_id,
  role: 'input_attachment',
  parent_id: run.session_id,
});

const ASSET_TYPES = new Set(['asset_reference', 'inline_asset', 'board_reference']);

/** Every item of a request that is not text (ordered items, then legacy attachments). */
export function fileItems(request: StoredRunRequest): InputItem[] {
  const items = [...(request.input_items ?? []), ...((request.attachments ?? []) as InputItem[])];
  return items.filter((i) => ASSET_TYPES.has(i.type));
}

export const hasFileItems = (request: StoredRunRequest): boolean => fileItems(request).length > 0;

/** The asset ids a prepared request references, each once, in order. */
export function referencedAssetIds(request: StoredRunRequest): string[] {
  const ids = fileItems(request)
    .filter((i) => i.type === 'asset_reference')
    .map((i) => String(i.asset_id));
  return [...new Set(ids)];
}

const unavailable = (type: string) =>
  new DaemonError(
    400,
    'assets',
    'assets_unavailable',
    `input of type ${type} needs the assets store, which this daemon does not offer; send text`,
  );

/**
 * Imports inline uploads and checks references of a request before its run is written (every entry
 * point: /runs, /input, agent subtasks, schedules). A request without files is returned as is.
 */
export async function prepareRequest(
  port: InputAssetsPort | null,
  request: StoredRunRequest,
  signal?: AbortSignal,
  sessionId?: string | null,
): Promise<StoredRunRequest> {
  const files = fileItems(request);
  if (files.length === 0) return request;
  if (!port) throw unavailable(files[0]!.type);
  const out: StoredRunRequest = { ...request };
  if (request.input_items) out.input_items = await port.prepareItems(request.input_items, signal, sessionId);
  if (request.attachments?.length)
    out.attachments = await port.prepareItems(request.attachments as InputItem[], signal, sessionId);
  return out;
}

/**
 * A submit on a session (/runs, /input): the request prepared, then checked against the route the
 * run will be pinned to, all before the run's transaction.
 */
export async function prepareForSession(
  port: InputAssetsPort | null,
  routes: RouteInventory,
  db: Executor,
  sessionId: string,
  request: StoredRunRequest,
): Promise<StoredRunRequest> {
  // Refusals that need no file come first, so a refused submit imports nothing.
  const session = await getSession(db, sessionId);
  if (!session) throw errors.sessionNotFound(sessionId);
  if (session.ended_at_ms !== null) throw errors.sessionEnded(sessionId);
  const route = routes.get(pinRoute(routes, request, session.route_policy).route_id);
  const prepared = await prepareRequest(port, request, undefined, sessionId);
  if (route && port) await port.checkRoute(fileItems(prepared), route.config);
  return prepared;
}

/** At the run's insert: a request must already be prepared (only references left). */
export function assertPrepared(port: InputAssetsPort | null, request: StoredRunRequest): string[] {
  const files = fileItems(request);
  if (files.length === 0) return [];
  if (!port) throw unavailable(files[0]!.type);
  const inline = files.find((i) => i.type !== 'asset_reference');
  if (inline)
    throw new DaemonError(
      400,
      'assets',
      'invalid_asset_request',
      `input of type ${inline.type} must be imported before the run is created`,
    );
  return referencedAssetIds(request);
}

/** The ordered parts of a journaled input: items as given, or the legacy text then attachments. */
export function inputParts(request: StoredRunRequest): UserPart[] | null {
  if (!hasFileItems(request)) return null;
  const part = (i: InputItem): UserPart | null =>
    i.type === 'text'
      ? { type: 'text', text: String(i.text ?? '') }
      : i.type === 'asset_reference'
        ? { type: 'asset', asset_id: String(i.asset_id) }
        : null;
  const items: InputItem[] = request.input_items
    ? request.input_items
    : [{ type: 'text', text: request.content }, ...((request.attachments ?? []) as InputItem[])];
  return items.map(part).filter((p): p is UserPart => p !== null);
}

export const needsRendering = (messages: readonly ChatMessage[]): boolean =>
  messages.some((m) => m.role === 'user' && m.parts?.some((p) => p.type === 'asset'));
