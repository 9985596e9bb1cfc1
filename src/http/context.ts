// What route modules receive: services only (routes never touch the store directly).
import type { FastifyInstance } from 'fastify';
import type { Engine } from '../engine/engine.ts';
import type { AgentsService } from '../features/agents/service.ts';
import type { ApprovalsService } from '../features/approvals/service.ts';
import type { MailboxesService } from '../features/mailboxes/service.ts';
import type { QuestionsService } from '../features/questions/service.ts';
import type { RunsService } from '../features/runs/service.ts';
import type { RuntimeService } from '../features/runtime/service.ts';
import type { SchedulesService } from '../features/schedules/service.ts';
import type { SecretsService } from '../features/secrets/service.ts';
import type { SessionPermissionsService } from '../features/sessions/permissions.ts';
import type { SessionsService } from '../features/sessions/service.ts';
import type { TasksService } from '../features/tasks/service.ts';

export interface AppContext {
  engine: Engine;
  sessions: SessionsService;
  sessionPermissions: SessionPermissionsService;
  runs: RunsService;
  runtime: RuntimeService;
  secrets: SecretsService;
  approvals: ApprovalsService;
  questions: QuestionsService;
  mailboxes: MailboxesService;
  tasks: TasksService;
  schedules: SchedulesService;
  agents: AgentsService;
}

export type HttpApp = FastifyInstance<any, any, any, any, any>;
