// Boards (api-collab §5, docs/boards.md): board records, linear revisions over assets, startup
// repair of the revision chains.
import type { AssetsPort } from '../assets/port.ts';
import type { FeatureModule } from '../feature.ts';
import type { RuntimeService } from '../runtime/service.ts';
import { repairBoards } from './repair.ts';
import { registerBoardRoutes } from './routes.ts';
import { BoardsService } from './service.ts';

export const boardsFeature: FeatureModule<BoardsService> = {
  name: 'boards',
  create: (k) => {
    const boards = new BoardsService(k.store, () => k.use<AssetsPort>('assets'));
    // What the last startup repair checked and quarantined (GET /v1/status `boards`).
    k.use<RuntimeService>('runtime').addStatusSection('boards', () => ({ last_repair: boards.repair }));
    return boards;
  },
  routes: (app, boards) => registerBoardRoutes(app, boards),
  prepare: (boards) => repairBoards(boards),
};
