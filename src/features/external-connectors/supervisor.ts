// Supervision of one child-process sidecar (api-collab §6.7): claim the right to run it (a lease
// row, so one PostgreSQL replica runs it), settle a process a dead daemon left, issue the launch's
// credential grant, spawn in its own process group with no inherited stdio, wait until GET /health
// and GET /manifest report the same instance_id, watch its health, and on any failure kill the
// group, revoke the grant and start again after a bounded backoff.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import { ulid } from 'ulid';
import type { Store } from '../../store/store.ts';
import type { ConnectorGrants } from '../credentials/connector-grants.ts';
import { childCwd, childEnv, redactLine } from './child-env.ts';
import { type ChildRow, claimChild, releaseChild, renewChild, updateChild } from './children-store.ts';
import { fetchHealth, fetchManifest, type ManifestCache, targetOf } from './client.ts';
import type { ExternalSettings } from './settings.ts';

export const TIMING = {
  ownerTtlMs: 15_000,
  watchEveryMs: 1_000,
  healthEveryMs: 3_000,
  healthFailuresBeforeRestart: 3,
  readyTimeoutMs: 20_000,
  readyPollMs: 150,
  backoffInitialMs: 250,
  backoffMaxMs: 30_000,
  /** A child ready this long resets the backoff. */
  stableAfterMs: 60_000,
  killGraceMs: 2_000,
  grantTtlMs: 120_000,
  standbyPollMs: 2_000,
};

export interface SupervisorDeps {
  store: Store;
  log: Logger;
  replicaId: string;
  grants: ConnectorGrants;
  manifests: ManifestCache;
  daemonUrl(): Promise<string>;
  sharedToken(): Promise<string | null>;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

class LaunchFailure extends Error {}

export class ChildSupervisor {
  readonly name: string;
  private settings: ExternalSettings;
  private readonly d: SupervisorDeps;
  private readonly stopper = new AbortController();
  private loop: Promise<void> | null = null;
  private child: ChildProcess | null = null;
  private exited: Promise<void> | null = null;
  /** In-process view for the status section (the row has the durable one). */
  state = 'starting';
  restarts = 0;
  lastError: string | null = null;
  instanceId: string | null = null;
  pid: number | null = null;
  /** When the current child became ready (0: not yet). */
  private readyAtMs = 0;
  /** Set while a settings change replaces the child: its exit is not a failure. */
  private replacing = false;

  constructor(name: string, settings: ExternalSettings, deps: SupervisorDeps) {
    this.name = name;
    this.settings = settings;
    this.d = deps;
  }

  get settingsSnapshot(): ExternalSettings {
    return this.settings;
  }

  start(): void {
    this.loop ??= this.run().catch((err) => {
      this.d.log.error({ connector: this.name, err: String(err) }, 'external connector supervisor stopped');
    });
  }

  /** Stops the child (process group) and the loop; `drop` forgets the row (connector deleted). */
  async stop(drop = false): Promise<void> {
    this.stopper.abort();
    await this.loop;
    await releaseChild(this.d.store, this.name, this.d.replicaId, 'stopped', drop).catch(() => undefined);
    this.state = 'stopped';
  }

  private async run(): Promise<void> {
    const signal = this.stopper.signal;
    let delay = TIMING.backoffInitialMs;
    let first = true;
    while (!signal.aborted) {
      const claim = await claimChild(
        this.d.store,
        this.name,
        this.d.replicaId,
        hostname(),
        TIMING.ownerTtlMs,
        !this.d.store.postgres,
      ).catch((err) => {
        this.lastError = `claim failed: ${String(err).slice(0, 200)}`;
        return null;
      });
      if (!claim?.owned) {
        this.state = 'standby';
        await sleep(TIMING.standbyPollMs, signal);
        continue;
      }
      if (claim.previous) await this.settleLeftover(claim.previous);
      if (!first) {
        this.restarts += 1;
        await updateChild(this.d.store, this.name, this.d.replicaId, { restarts: this.restarts }).catch(
          () => {},
        );
      }
      first = false;
      this.readyAtMs = 0;
      try {
        await this.launchOnce(signal);
      } catch (err) {
        if (this.replacing) this.lastError = null;
        else {
          this.lastError =
            err instanceof LaunchFailure ? err.message : `launch failed: ${String(err).slice(0, 200)}`;
          this.d.log.warn({ connector: this.name, error: this.lastError }, 'external connector child failed');
        }
      }
      await this.killGroup();
      if (signal.aborted) break;
      // A replaced child (new settings) starts again at once; a healthy stretch resets the backoff.
      if (this.replacing || (this.readyAtMs && Date.now() - this.readyAtMs >= TIMING.stableAfterMs))
        delay = TIMING.backoffInitialMs;
      this.replacing = false;
      this.state = 'backoff';
      await updateChild(this.d.store, this.name, this.d.replicaId, {
        state: 'backoff',
        pid: null,
        last_error: this.lastError,
      }).catch(() => undefined);
      await sleep(delay, signal);
      delay = Math.min(delay * 2, TIMING.backoffMaxMs);
    }
    await this.killGroup();
  }

  /** A process a dead daemon on this host left (same launch marker): killed, its grant revoked. */
  private async settleLeftover(prev: ChildRow): Promise<void> {
    if (prev.grant_id) await this.d.grants.revoke(prev.grant_id, 'connector_child_replaced').catch(() => {});
    if (this.restarts === 0 && prev.restarts > 0) this.restarts = prev.restarts;
    if (!prev.pid || !prev.launch_id || prev.host !== hostname()) return;
    if (this.child && this.child.pid === prev.pid) return;
    if (!carriesMarker(prev.pid, prev.launch_id)) return;
    try {
      process.kill(-prev.pid, 'SIGKILL');
      this.d.log.info(
        { connector: this.name, pid: prev.pid },
        'killed a sidecar a previous daemon left running',
      );
    } catch {
      // Already gone.
    }
  }

  /** One launch, until the child dies, fails its health, loses ownership or we stop. Returns when it was ready. */
  private async launchOnce(signal: AbortSignal): Promise<number> {
    const cp = this.settings.child_process;
    if (!cp) throw new LaunchFailure('no child_process settings');
    const slots = cp.credential_slots ?? {};
    const grant = Object.keys(slots).length
      ? await this.d.grants.issue(this.name, slots, TIMING.grantTtlMs)
      : null;
    const sharedToken = await this.d.sharedToken();
    const launchId = ulid();
    const env = childEnv(process.env, cp, {
      connector: this.name,
      base_url: this.settings.base_url,
      daemon_url: await this.d.daemonUrl(),
      launch_id: launchId,
      shared_token: sharedToken,
      grant: grant ? { token: grant.token, env_keys: Object.keys(slots).sort() } : null,
    });
    const redact = [sharedToken, grant?.token].filter((s): s is string => !!s);
    this.state = 'starting';
    this.instanceId = null;
    const child = spawn(cp.command, cp.args, {
      cwd: childCwd(cp),
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let exitInfo: string | null = null;
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, sig) => {
        exitInfo = `exited with ${code ?? `signal ${sig}`}`;
        resolve();
      });
      child.once('error', (err) => {
        exitInfo = `could not start: ${(err as NodeJS.ErrnoException).code ?? err.message}`;
        resolve();
      });
    });
    for (const [stream, pipe] of [
      ['stdout', child.stdout],
      ['stderr', child.stderr],
    ] as const) {
      if (!pipe) continue;
      createInterface({ input: pipe }).on('line', (line) =>
        this.d.log.info({ connector: this.name, stream }, redactLine(line, redact)),
      );
    }
    this.pid = child.pid ?? null;
    await updateChild(this.d.store, this.name, this.d.replicaId, {
      state: 'starting',
      pid: this.pid,
      launch_id: launchId,
      instance_id: null,
      grant_id: grant?.grant_id ?? null,
      started_at_ms: Date.now(),
      ready_at_ms: null,
      last_error: this.lastError,
    });
    try {
      const instance = await this.waitReady(signal, () => exitInfo);
      const readyAt = Date.now();
      this.readyAtMs = readyAt;
      this.instanceId = instance;
      this.state = 'ready';
      this.lastError = null;
      await updateChild(this.d.store, this.name, this.d.replicaId, {
        state: 'ready',
        instance_id: instance,
        ready_at_ms: readyAt,
        last_error: null,
      });
      this.d.log.info({ connector: this.name, pid: this.pid }, 'external connector child ready');
      await this.watch(signal, () => exitInfo, grant?.grant_id ?? null);
      return readyAt;
    } finally {
      if (grant) await this.d.grants.revoke(grant.grant_id, 'connector_child_stopped').catch(() => undefined);
    }
  }

  private async waitReady(signal: AbortSignal, exitInfo: () => string | null): Promise<string> {
    const target = targetOf(this.settings);
    const deadline = Date.now() + TIMING.readyTimeoutMs;
    let why = 'no answer';
    while (!signal.aborted) {
      if (exitInfo()) throw new LaunchFailure(`child ${exitInfo()} before it was ready`);
      if (Date.now() > deadline)
        throw new LaunchFailure(`child not ready after ${TIMING.readyTimeoutMs} ms (${why})`);
      try {
        const probe = AbortSignal.any([signal, AbortSignal.timeout(2_000)]);
        const health = await fetchHealth(target, probe);
        const manifest = await fetchManifest(target, probe);
        if (health.instance_id === manifest.instance_id) {
          this.d.manifests.put(this.name, this.settings.base_url, manifest);
          return manifest.instance_id;
        }
        why = 'health and manifest report different instance ids';
      } catch (err) {
        why = (err as { code?: string }).code ?? 'no answer';
      }
      await sleep(TIMING.readyPollMs, signal);
    }
    throw new LaunchFailure('stopped');
  }

  private async watch(
    signal: AbortSignal,
    exitInfo: () => string | null,
    grantId: string | null,
  ): Promise<void> {
    const target = targetOf(this.settings);
    let failures = 0;
    let lastHealth = Date.now();
    let lastRenew = Date.now();
    while (!signal.aborted) {
      await Promise.race([sleep(TIMING.watchEveryMs, signal), this.exited]);
      if (signal.aborted) return;
      if (exitInfo()) throw new LaunchFailure(`child ${exitInfo()}`);
      const now = Date.now();
      if (now - lastRenew >= TIMING.ownerTtlMs / 3) {
        lastRenew = now;
        if (
          !(await renewChild(this.d.store, this.name, this.d.replicaId, TIMING.ownerTtlMs).catch(() => true))
        )
          throw new LaunchFailure('another replica took the child over');
        if (grantId) await this.d.grants.extend(grantId, TIMING.grantTtlMs).catch(() => undefined);
      }
      if (now - lastHealth < TIMING.healthEveryMs) continue;
      lastHealth = now;
      try {
        const h = await fetchHealth(target, AbortSignal.any([signal, AbortSignal.timeout(2_000)]));
        failures = h.instance_id === this.instanceId ? 0 : failures + 1;
      } catch {
        failures += 1;
      }
      if (failures >= TIMING.healthFailuresBeforeRestart)
        throw new LaunchFailure(`health check failed ${failures} times in a row`);
    }
  }

  /** SIGTERM to the whole process group, SIGKILL after a grace period. */
  private async killGroup(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    const pid = child.pid;
    if (pid !== undefined && child.exitCode === null && child.signalCode === null) {
      signalGroup(pid, 'SIGTERM');
      const gone = await Promise.race([
        this.exited!.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), TIMING.killGraceMs)),
      ]);
      if (!gone) signalGroup(pid, 'SIGKILL');
      await this.exited;
    }
    // Descendants that stayed in the group after the leader exited.
    if (pid !== undefined) signalGroup(pid, 'SIGKILL');
    this.pid = null;
  }

  /** New settings: the running child is replaced (a changed command, env or slot map must apply). */
  async reconfigure(settings: ExternalSettings): Promise<void> {
    this.settings = settings;
    this.d.manifests.forget(this.name);
    this.replacing = true;
    await this.killGroup();
  }
}

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // The group is gone.
  }
}

/** Linux: the process's environment carries our launch marker (so a reused pid is never killed). */
function carriesMarker(pid: number, launchId: string): boolean {
  try {
    const env = readFileSync(`/proc/${pid}/environ`, 'latin1');
    return env.split('\0').includes(`KHEISH_EXTERNAL_CONNECTOR_LAUNCH_ID=${launchId}`);
  } catch {
    return false;
  }
}
