// What route modules receive: services only (routes never touch the store directly).
import type { FastifyInstance } from 'fastify';
import type { Engine } from '../engine/engine.ts';
import type { ApprovalsService } from '../features/approvals/service.ts';
import type { QuestionsService } from '../features/questions/service.ts';
import type { RunsService } from '../features/runs/service.ts';
import type { RuntimeService } from '../features/runtime/service.ts';
import type { SecretsService } from '../features/secrets/service.ts';
import type { SessionsService } from '../features/sessions/service.ts';

export interface AppContext {
  engine: Engine;
  sessions: SessionsService;
  runs: RunsService;
  runtime: RuntimeService;
  secrets: SecretsService;
  approvals: ApprovalsService;
  questions: QuestionsService;
}

// biome-ignore lint/suspicious/noExplicitAny: accepts the server whatever its logger type
export type HttpApp = FastifyInstance<any, any, any, any, any>;
