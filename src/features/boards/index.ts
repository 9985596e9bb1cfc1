// Boards (api-collab §5, docs/boards.md): board records, linear revisions over assets, startup
// repair of the revision chains.
import type { AssetsPort } from '../assets/port.ts';
import type { FeatureModule } from '../feature.ts';
import type { InputAssets } from '../multimodal/input-assets.ts';
import type { RuntimeService } from '../runtime/service.ts';
import { BoardInput } from './input.ts';
import { repairBoards } from './repair.ts';
import { registerBoardRoutes } from './routes.ts';
import { BoardsService } from './service.ts';
import { boardDrawTool } from './tool.ts';

export const boardsFeature: FeatureModule<BoardsService> = {
  name: 'boards',
  create: (k) => {
    const assets = () => k.use<AssetsPort>('assets');
    const boards = new BoardsService(k.store, assets);
    boards.events = k.events;
    // board_reference input items resolve through the multimodal seam (its prepareItems).
    k.use<InputAssets>('multimodal').boards = new BoardInput(boards, assets);
    k.tools.register(boardDrawTool(boards, assets));
    // What the last startup repair checked and quarantined (GET /v1/status `boards`).
    k.use<RuntimeService>('runtime').addStatusSection('boards', () => ({ last_repair: boards.repair }));
    return boards;
  },
  routes: (app, boards) => registerBoardRoutes(app, boards),
  prepare: (boards) => repairBoards(boards),
};
