// Approvals (api-core §4) and the HTTP binding of approvals and questions together.
import type { FeatureModule } from '../feature.ts';
import type { QuestionsService } from '../questions/service.ts';
import type { SessionsFeature } from '../sessions/index.ts';
import { registerApprovalRoutes } from './routes.ts';
import { ApprovalsService } from './service.ts';

export const approvalsFeature: FeatureModule<ApprovalsService> = {
  name: 'approvals',
  create: (k) => new ApprovalsService(k.engine),
  routes: (app, approvals, k) =>
    registerApprovalRoutes(
      app,
      approvals,
      k.use<QuestionsService>('questions'),
      k.use<SessionsFeature>('sessions').sessions,
    ),
};
