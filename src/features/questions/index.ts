// Structured questions to users (api-core §4); their routes are bound with the approvals'.
import type { FeatureModule } from '../feature.ts';
import { QuestionsService } from './service.ts';

export const questionsFeature: FeatureModule<QuestionsService> = {
  name: 'questions',
  create: (k) => new QuestionsService(k.engine),
};
