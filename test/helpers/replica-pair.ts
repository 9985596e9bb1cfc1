// Two daemons on one fresh PostgreSQL schema (replicas of one system), for the replica tests.
import { startDaemon, startReplica, type TestDaemon } from './daemon.ts';
import { freshSchema } from './pg-schema.ts';

export interface ReplicaPair {
  a: TestDaemon;
  b: TestDaemon;
  /** Stops both (thawing a SIGSTOPped one first), removes their state roots, drops the schema. */
  stop(): Promise<void>;
}

export async function startReplicaPair(
  opts: { script?: unknown; args?: string[] } = {},
): Promise<ReplicaPair> {
  const schema = await freshSchema();
  const a = await startDaemon({ script: opts.script, args: opts.args, databaseUrl: schema.url }).catch(
    async (err) => {
      await schema.drop();
      throw err;
    },
  );
  const b = await startReplica(a, { script: opts.script, args: opts.args });
  return {
    a,
    b,
    stop: async () => {
      for (const d of [a, b]) {
        if (d.proc.exitCode === null && d.proc.signalCode === null) {
          d.proc.kill('SIGCONT');
          await d.stop().catch(() => undefined);
        }
        await d.cleanup();
      }
      await schema.drop();
    },
  };
}
