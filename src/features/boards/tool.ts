// The `board_draw` control tool (api-collab §5, agent drawing): appends a batch of elements to the
// board's latest state and paints them over its latest render, each stamped with the calling
// agent's name and stable colour, as a new revision on that tip. A concurrent writer moves the tip:
// the batch is redrawn on the fresh tip, at most MAX_ATTEMPTS times. The tool call id is the
// revision's client_revision_id, so a call replayed after a restart lands once.
import { z } from 'zod';
import { DaemonError } from '../../errors/daemon-error.ts';
import { getAgentBySession } from '../../store/repos/agents.ts';
import { getRevision } from '../../store/repos/boards.ts';
import { getSession } from '../../store/repos/sessions.ts';
import { defineControlTool } from '../../tools/control/define-control-tool.ts';
import type { ToolContext, ToolDefinition } from '../../tools/registry.ts';
import type { AssetsPort } from '../assets/port.ts';
import { authorColour, blankPng, DrawElement, drawOver } from './draw.ts';
import { visibleTo } from './input.ts';
import { type BoardsService, boardNotFound } from './service.ts';

export const MAX_ATTEMPTS = 5;
const DEFAULT_CANVAS = { width: 1280, height: 720 };

const BoardDrawArgs = z
  .object({
    board_id: z.string().min(1).describe('The board to draw on (its latest revision).'),
    elements: z
      .array(DrawElement)
      .min(1)
      .max(64)
      .describe(
        'Shapes in canvas pixels: rect {x,y,width,height,filled?}, ellipse {cx,cy,rx,ry,filled?}, line/arrow {x1,y1,x2,y2}, text {x,y,text,size?}.',
      ),
    note: z.string().max(2000).optional().describe('What this drawing adds (kept on the revision).'),
  })
  .strict();

/** The name drawings are signed with: the agent's nickname or name, its persona, else the session id. */
async function authorOf(boards: BoardsService, sessionId: string): Promise<string> {
  const db = boards.store.db;
  const agent = await getAgentBySession(db, sessionId);
  if (agent) return agent.nickname ?? agent.name;
  const session = await getSession(db, sessionId);
  if (session?.persona) {
    const snap = JSON.parse(session.persona) as { display_name?: string };
    if (snap.display_name) return snap.display_name;
  }
  return sessionId;
}

async function drawOnce(
  boards: BoardsService,
  assets: AssetsPort,
  args: z.infer<typeof BoardDrawArgs>,
  ctx: ToolContext,
  author: string,
) {
  const board = await boards.row(args.board_id);
  const tip = board.tip_revision_id
    ? await getRevision(boards.store.db, board.board_id, board.tip_revision_id)
    : null;
  let state: Record<string, unknown> = { schema_version: 1, canvas: DEFAULT_CANVAS, elements: [] };
  let previousRender: Uint8Array;
  if (tip) {
    previousRender = await assets.readRaw(tip.render_asset_id);
    if (tip.state_asset_id)
      state = JSON.parse(Buffer.from(await assets.readRaw(tip.state_asset_id)).toString('utf8'));
  } else previousRender = await blankPng(DEFAULT_CANVAS.width, DEFAULT_CANVAS.height);
  const colour = authorColour(author);
  const stamped = args.elements.map((e) => ({
    ...e,
    author,
    author_session_id: ctx.session_id,
    color: colour,
  }));
  const next = {
    ...state,
    schema_version: 1,
    board_id: board.board_id,
    previous_revision_id: tip?.revision_id ?? null,
    elements: [...(Array.isArray(state.elements) ? state.elements : []), ...stamped],
  };
  const png = await drawOver(previousRender, args.elements, author);
  const render = await assets.import(
    { file_name: `${board.board_id}.png`, media_type: 'image/png', bytes: png },
    ctx.signal,
  );
  const stateAsset = await assets.import(
    {
      file_name: `${board.board_id}.state.json`,
      media_type: 'application/json',
      bytes: Buffer.from(JSON.stringify(next)),
    },
    ctx.signal,
  );
  const { revision } = await boards.createRevision(board.board_id, {
    previous_revision_id: tip?.revision_id ?? null,
    client_revision_id: `board_draw:${ctx.run_id}:${ctx.tool_call_id}`,
    render_asset_id: render.asset_id,
    state_asset_id: stateAsset.asset_id,
    note: args.note ?? null,
    source_session_id: ctx.session_id,
    source_run_id: ctx.run_id,
    metadata: { tool: 'board_draw', author, color: colour, element_count: args.elements.length },
  });
  return { ...revision, author, color: colour };
}

export function boardDrawTool(boards: BoardsService, assets: () => AssetsPort): ToolDefinition {
  return defineControlTool(
    'board_draw',
    'Draw on a daemon board: shapes and text are added to its latest revision, signed with your name and colour, as a new revision.',
    BoardDrawArgs,
    true,
    async (args, ctx) => {
      const board = await boards.row(args.board_id);
      if (!visibleTo(board.owner_session_id, ctx.session_id)) throw boardNotFound(args.board_id);
      const author = await authorOf(boards, ctx.session_id);
      let last: unknown = null;
      for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        try {
          const r = await drawOnce(boards, assets(), args, ctx, author);
          return {
            board_id: r.board_id,
            revision_id: r.revision_id,
            previous_revision_id: r.previous_revision_id,
            render_asset_id: r.render_asset_id,
            state_asset_id: r.state_asset_id,
            author: r.author,
            color: r.color,
            attempts: attempt,
          };
        } catch (err) {
          if (!(err instanceof DaemonError) || err.code !== 'board_revision_conflict') throw err;
          last = err;
        }
      }
      throw new DaemonError(
        409,
        'boards',
        'board_revision_conflict',
        `board ${args.board_id} kept moving: ${MAX_ATTEMPTS} attempts lost to concurrent writers (${(last as Error).message})`,
      );
    },
  );
}
