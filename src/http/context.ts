// The Fastify instance routes are registered on (features bind their own routes: src/features/feature.ts).
import type { FastifyInstance } from 'fastify';

export type HttpApp = FastifyInstance<any, any, any, any, any>;
