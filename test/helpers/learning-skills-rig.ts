// An in-process daemon for promoted-skill tests: the real daemon (scripted routes, a temporary
// state root and workspace, SQLite or a fresh PostgreSQL schema) with the learnings stand-in in
// its feature list. Restartable on the same state.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { resolveServeConfig } from '../../src/config/serve-options.ts';
import { type RunningDaemon, startDaemon } from '../../src/daemon.ts';
import { FEATURES } from '../../src/features/index.ts';
import { http, tempDir, waitForRun } from './daemon.ts';
import { StandInLearnings } from './learnings-stand-in.ts';
import { type FreshSchema, freshSchema, testStoreIsPostgres } from './pg-schema.ts';

export interface Rig {
  url: string;
  stateRoot: string;
  workspace: string;
  databaseUrl: string | null;
  learnings: StandInLearnings;
  restart(): Promise<void>;
  /** Stops the daemon (graceful); `start` brings a new one up on the same state. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startRig(script: unknown): Promise<Rig> {
  const learnings = new StandInLearnings();
  if (!FEATURES.some((f) => f.name === 'learnings')) FEATURES.push(learnings.feature());
  else
    FEATURES.splice(
      FEATURES.findIndex((f) => f.name === 'learnings'),
      1,
      learnings.feature(),
    );
  const stateRoot = tempDir('kheish-lskills-');
  const workspace = tempDir('kheish-lskills-ws-');
  const routes = tempDir('kheish-lskills-routes-');
  writeFileSync(join(routes, 'script.json'), JSON.stringify(script));
  writeFileSync(
    join(routes, 'routes.toml'),
    'version = 1\ndefault_route = "local"\n[routes.local]\ndriver = "scripted"\ndefault_model = "scripted"\nscript_file = "script.json"\n',
  );
  // No user skill roots leak in from the machine running the tests.
  const home = tempDir('kheish-lskills-home-');
  mkdirSync(home, { recursive: true });
  process.env.HOME = home;
  const schema: FreshSchema | null = testStoreIsPostgres() ? await freshSchema() : null;
  const config = () =>
    resolveServeConfig(
      {
        bind: '127.0.0.1:0',
        stateRoot,
        routesFile: join(routes, 'routes.toml'),
        workspaceRoot: workspace,
        ...(schema ? { databaseUrl: schema.url } : {}),
      },
      {},
    );
  let daemon: RunningDaemon | null = await startDaemon(config(), pino({ level: 'silent' }));
  const rig: Rig = {
    url: daemon.url,
    stateRoot,
    workspace,
    databaseUrl: schema?.url ?? null,
    learnings,
    restart: async () => {
      await rig.stop();
      await rig.start();
    },
    stop: async () => {
      await daemon?.shutdown('test stop');
      daemon = null;
    },
    start: async () => {
      daemon = await startDaemon(config(), pino({ level: 'silent' }));
      rig.url = daemon.url;
    },
    close: async () => {
      await daemon?.shutdown('test end');
      await schema?.drop();
    },
  };
  return rig;
}

/** Submits a detached run and waits for it to finish. */
export async function runTo(url: string, sessionId: string, content: string): Promise<any> {
  await http(url, 'POST', '/v1/sessions', { session_id: sessionId });
  const r = await http(url, 'POST', `/v1/sessions/${sessionId}/runs`, { content });
  if (r.status !== 202) throw new Error(`submit: ${r.status} ${r.text}`);
  return waitForRun(url, r.body.run_id, undefined, 30_000);
}
