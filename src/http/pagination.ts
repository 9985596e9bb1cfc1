// Cursor pagination (api-core §1.5): legacy arrays unless `page=true` or a cursor is given.
import { DaemonError } from '../errors/daemon-error.ts';

export interface PageQuery {
  page?: string;
  cursor?: string;
  limit?: string;
}

export interface PageParams {
  paginated: boolean;
  limit: number | undefined;
  /** The decoded sort key of the last item already seen. */
  after: string | undefined;
}

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 100;

export function parsePage(q: PageQuery): PageParams {
  const paginated = q.page === 'true' || q.page === '1' || q.cursor !== undefined;
  let limit: number | undefined;
  if (q.limit !== undefined) {
    const n = Number(q.limit);
    if (!Number.isInteger(n) || n <= 0)
      throw new DaemonError(
        400,
        'pagination',
        'invalid_limit',
        `limit must be a whole number from 1 to ${MAX_LIMIT}`,
      );
    limit = Math.min(n, MAX_LIMIT);
  } else if (paginated) limit = DEFAULT_LIMIT;
  return { paginated, limit, after: q.cursor === undefined ? undefined : decodeCursor(q.cursor) };
}

export function encodeCursor(key: string): string {
  return Buffer.from(JSON.stringify({ k: key })).toString('base64url');
}

export function decodeCursor(cursor: string): string {
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error('charset');
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { k?: unknown };
    if (typeof parsed.k !== 'string') throw new Error('shape');
    return parsed.k;
  } catch {
    throw new DaemonError(
      400,
      'pagination',
      'invalid_cursor',
      'cursor is not one this daemon issued; start again without it',
    );
  }
}

export function envelope<T>(
  items: T[],
  opts: { limit: number; total: number; hasMore: boolean; lastKey?: string; order: string },
): Record<string, unknown> {
  const pagination: Record<string, unknown> = {
    limit: opts.limit,
    total_count: opts.total,
    has_more: opts.hasMore,
    order: opts.order,
  };
  if (opts.hasMore && opts.lastKey !== undefined) pagination.next_cursor = encodeCursor(opts.lastKey);
  return { items, pagination };
}

/** How many rows a list service should fetch: one extra when paginated, to know `has_more`. */
export function fetchLimit(page: PageParams): number | undefined {
  if (page.limit === undefined) return undefined;
  return page.paginated ? page.limit + 1 : page.limit;
}

/**
 * Renders what a list service returned for `fetchLimit(page)` rows: the legacy array, or the
 * envelope with `has_more` and the cursor of the last row shown.
 */
export function renderPage<T>(
  page: PageParams,
  items: T[],
  opts: { total: number; keyOf: (item: T) => string | undefined; order: string },
): T[] | Record<string, unknown> {
  if (!page.paginated) return items;
  const limit = page.limit!;
  const shown = items.slice(0, limit);
  const last = shown.at(-1);
  return envelope(shown, {
    limit,
    total: opts.total,
    hasMore: items.length > limit,
    lastKey: last === undefined ? undefined : opts.keyOf(last),
    order: opts.order,
  });
}

/**
 * Pages a whole list the service already filtered and ordered (small operator-made records): the
 * cursor is the key of the last row shown, found again by position.
 */
export function pageByPosition<T>(
  query: PageQuery,
  all: T[],
  keyOf: (t: T) => string,
  order: string,
): T[] | Record<string, unknown> {
  const page = parsePage(query);
  const start = page.after === undefined ? 0 : all.findIndex((t) => keyOf(t) === page.after) + 1;
  const n = fetchLimit(page);
  const items = all.slice(start, n === undefined ? undefined : start + n);
  return renderPage(page, items, { total: all.length, keyOf, order });
}
