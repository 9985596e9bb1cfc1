// Mailboxes (docs/mailboxes.md): typed messages between agents, delivered in order exactly once;
// parent clarifications are a question-run kind of the engine. The dispatcher starts after run
// recovery (it settles deliveries a crash left) and stops before the executors drain.
import { registerMailboxTools } from '../../tools/control/mailbox.ts';
import type { FeatureModule } from '../feature.ts';
import { clarificationQuestionRuns } from './question-run.ts';
import { registerMailboxRoutes } from './routes.ts';
import { MailboxesService } from './service.ts';

export const mailboxesFeature: FeatureModule<MailboxesService> = {
  name: 'mailboxes',
  create: (k) => {
    const mailboxes = new MailboxesService(k.engine);
    registerMailboxTools(k.tools, mailboxes);
    k.engine.questionRuns.set('parent_clarification', clarificationQuestionRuns(k.engine, mailboxes.waiters));
    return mailboxes;
  },
  routes: (app, mailboxes) => registerMailboxRoutes(app, mailboxes),
  start: (mailboxes) => mailboxes.start(),
  stop: (mailboxes) => mailboxes.stop(),
};
