// `boards` (api-collab §5, docs/boards.md): boards and their linear revisions. Each command is one
// SDK call (`revise --on-latest` reads the board first to name its tip as the parent).
import type { Command } from 'commander';
import { type BoardRevisionView, BoardsResource, type BoardView } from '../sdk/boards.ts';
import { keyValues, oneLine, table, time } from './format.ts';
import { nonEmpty } from './parse.ts';
import { jsonObject } from './projects-tasks.ts';
import type { CliRuntime } from './runtime.ts';

function renderBoard(b: BoardView): string[] {
  return keyValues([
    ['board', b.board_id],
    ['name', b.display_name],
    ['owner session', b.owner_session_id ?? undefined],
    ['latest revision', b.latest_revision_id ?? '(none)'],
    ['latest render', b.latest_render_asset_id ?? undefined],
    [
      'revisions',
      `${b.revision_count}${b.quarantined_revision_count ? ` (+${b.quarantined_revision_count} quarantined)` : ''}`,
    ],
    ['created', time(b.created_at_ms)],
    ['updated', time(b.updated_at_ms)],
  ]);
}

function renderRevision(r: BoardRevisionView): string[] {
  return keyValues([
    ['revision', r.revision_id],
    ['board', r.board_id],
    ['sequence', String(r.sequence)],
    ['parent', r.previous_revision_id ?? '(none)'],
    ['status', r.status + (r.quarantine_reason ? ` (${r.quarantine_reason})` : '')],
    ['render', r.render_asset_id],
    ['state', r.state_asset_id ?? undefined],
    ['note', r.note ?? undefined],
    ['client id', r.client_revision_id ?? undefined],
    ['created', time(r.created_at_ms)],
  ]);
}

export function registerBoards(program: Command, rt: CliRuntime): void {
  const boards = program.command('boards').alias('board').description('boards and their revisions');
  const api = () => new BoardsResource(rt.client());

  boards
    .command('list')
    .description('boards (filters: --query, --owner-session)')
    .option('--query <text>', 'substring of the board id or name')
    .option('--owner-session <session_id>', 'boards owned by this session')
    .action(async (f: { query?: string; ownerSession?: string }) => {
      const items = await api().list({ query: f.query, owner_session_id: f.ownerSession });
      rt.emit(items, (list) =>
        list.length
          ? table(
              ['BOARD', 'REVISIONS', 'LATEST', 'NAME'],
              list.map((b) => [
                b.board_id,
                String(b.revision_count),
                b.latest_revision_id ?? '-',
                oneLine(b.display_name, 50),
              ]),
            )
          : ['no boards'],
      );
    });

  boards
    .command('create')
    .argument('[board_id]', 'a stable id (generated when left out)')
    .option('--display-name <name>', 'the board name (the id by default)', nonEmpty)
    .option('--owner-session <session_id>', 'only this session may reference or draw on it')
    .option('--metadata-json <json>', 'metadata (a JSON object)')
    .action(
      async (
        boardId: string | undefined,
        f: { displayName?: string; ownerSession?: string; metadataJson?: string },
      ) => {
        const view = await api().create({
          ...(boardId ? { board_id: boardId } : {}),
          ...(f.displayName ? { display_name: f.displayName } : {}),
          ...(f.ownerSession ? { owner_session_id: f.ownerSession } : {}),
          ...(f.metadataJson ? { metadata: await jsonObject(rt, f.metadataJson) } : {}),
        });
        rt.emit(view, renderBoard);
      },
    );

  boards
    .command('get')
    .argument('<board_id>')
    .action(async (id: string) => rt.emit(await api().get(id), renderBoard));

  boards
    .command('update')
    .argument('<board_id>')
    .option('--display-name <name>', 'the board name', nonEmpty)
    .option('--metadata-json <json>', 'metadata (a JSON object; replaces the stored one)')
    .action(async (id: string, f: { displayName?: string; metadataJson?: string }) => {
      const view = await api().update(id, {
        ...(f.displayName ? { display_name: f.displayName } : {}),
        ...(f.metadataJson ? { metadata: await jsonObject(rt, f.metadataJson) } : {}),
      });
      rt.emit(view, renderBoard);
    });

  boards
    .command('revisions')
    .description('every revision of a board, in order')
    .argument('<board_id>')
    .action(async (id: string) => {
      const list = await api().revisions(id);
      rt.emit(list, (l) =>
        l.length
          ? table(
              ['SEQ', 'REVISION', 'STATUS', 'RENDER', 'NOTE'],
              l.map((r) => [
                String(r.sequence),
                r.revision_id,
                r.status,
                r.render_asset_id,
                oneLine(r.note ?? '', 40),
              ]),
            )
          : ['no revisions'],
      );
    });

  boards
    .command('revision')
    .argument('<board_id>')
    .argument('<revision_id>')
    .action(async (id: string, rev: string) => rt.emit(await api().revision(id, rev), renderRevision));

  boards
    .command('revise')
    .description('add a revision (render and state are asset ids; upload them with `assets upload`)')
    .argument('<board_id>')
    .requiredOption('--render-asset <asset_id>', 'the rendered image', nonEmpty)
    .option('--state-asset <asset_id>', 'the board state document (application/json)')
    .option('--previous <revision_id>', 'the parent revision: the tip you read (compare-and-swap)')
    .option('--on-latest', 'use the board’s current tip as the parent')
    .option('--client-revision-id <id>', 'makes a retry return the original revision')
    .option('--note <text>')
    .action(
      async (
        id: string,
        f: {
          renderAsset: string;
          stateAsset?: string;
          previous?: string;
          onLatest?: boolean;
          clientRevisionId?: string;
          note?: string;
        },
      ) => {
        const previous = f.onLatest ? (await api().get(id)).latest_revision_id : (f.previous ?? null);
        const view = await api().createRevision(id, {
          previous_revision_id: previous,
          render_asset_id: f.renderAsset,
          ...(f.stateAsset ? { state_asset_id: f.stateAsset } : {}),
          ...(f.clientRevisionId ? { client_revision_id: f.clientRevisionId } : {}),
          ...(f.note ? { note: f.note } : {}),
        });
        rt.emit(view, renderRevision);
      },
    );
}
