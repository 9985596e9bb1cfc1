// Daemon processes with the learnings stand-in (test/fixtures/learning-skills/daemon.ts), for
// promoted-skill crash and replica tests: launched with a scripted route, killed with SIGKILL.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { http, tempDir, waitForRun } from './daemon.ts';

const FIXTURE = resolve(import.meta.dirname, '../fixtures/learning-skills/daemon.ts');

export interface LsProc {
  url: string;
  child: ChildProcess;
}

export interface LsConfig {
  stateRoot: string;
  workspace: string;
  routesFile: string;
  databaseUrl?: string;
  learnings: Array<{ learning_id: string; content?: string }>;
}

/** A fresh state root, workspace and routes file playing `script`. */
export function lsConfig(script: unknown, extra: Partial<LsConfig> = {}): LsConfig {
  const routes = tempDir('kheish-lskills-proc-routes-');
  writeFileSync(join(routes, 'script.json'), JSON.stringify(script));
  writeFileSync(
    join(routes, 'routes.toml'),
    'version = 1\ndefault_route = "local"\n[routes.local]\ndriver = "scripted"\ndefault_model = "scripted"\nscript_file = "script.json"\n',
  );
  return {
    stateRoot: tempDir('kheish-lskills-proc-'),
    workspace: tempDir('kheish-lskills-proc-ws-'),
    routesFile: join(routes, 'routes.toml'),
    learnings: [],
    ...extra,
  };
}

export async function launch(config: LsConfig): Promise<LsProc> {
  const child = spawn(process.execPath, [FIXTURE], {
    env: { ...process.env, LS_CONFIG: JSON.stringify(config), HOME: config.workspace },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`fixture did not start: ${out}`)), 30_000);
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /READY (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(m[1]!);
      }
    });
    child.stderr!.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.on('exit', (code) => fail(new Error(`fixture exited ${code}: ${out}`)));
  });
  return { url, child };
}

export const killProc = (p: LsProc) =>
  new Promise<void>((ok) => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return ok();
    p.child.once('exit', () => ok());
    p.child.kill('SIGKILL');
  });

export async function completedRun(url: string, session: string, content: string): Promise<string> {
  await http(url, 'POST', '/v1/sessions', { session_id: session });
  const r = await http(url, 'POST', `/v1/sessions/${session}/runs`, { content });
  assert.equal(r.status, 202, r.text);
  const run = await waitForRun(url, r.body.run_id, undefined, 30_000);
  assert.equal(run.status, 'completed');
  return run.run_id as string;
}
