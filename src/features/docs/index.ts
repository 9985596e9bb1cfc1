// The daemon's own documentation (GET /v1/docs).
import type { FeatureModule } from '../feature.ts';
import { registerDocsRoutes } from './routes.ts';
import { DocsService } from './service.ts';

export const docsFeature: FeatureModule<DocsService> = {
  name: 'docs',
  create: () => new DocsService(),
  routes: (app, docs) => registerDocsRoutes(app, docs),
};
