// GET /v1/runtime/doctor: the checks `kheish-daemon doctor` cannot make from outside — the host's
// disk, the store's integrity, the master key, the workspace, the sandbox, hook hostnames, MCP
// servers, connector processes and routes-file drift — each with a one-line fix.
import type { Logger } from 'pino';
import type { DoctorCheck } from '../../config/doctor-check.ts';
import type { SecretStore } from '../../secrets/secret-store.ts';
import type { Store } from '../../store/store.ts';
import type { RuntimeService } from '../runtime/service.ts';
import { diskSpace, fileSha256, routeFileDrift, sandbox, workspace } from './host-checks.ts';
import { storeIntegrity } from './integrity.ts';
import { checkAuth, checkReferences, type RouteRef } from './route-checks.ts';
import { externalConnectors, hookHosts, masterKey, mcpServers } from './runtime-checks.ts';

export interface DoctorDeps {
  store: Store;
  secrets: SecretStore;
  stateRoot: string;
  workspaceRoot: string | null;
  log: Logger;
  runtime: () => RuntimeService;
}

export class DoctorService {
  private readonly d: DoctorDeps;
  private readonly routesFile: string | null;
  /** The routes file as the daemon loaded it (read at start-up, right after it was parsed). */
  private readonly loadedSha256: string | null;

  constructor(deps: DoctorDeps, routesFile: string | null) {
    this.d = deps;
    this.routesFile = routesFile;
    let sha: string | null = null;
    try {
      sha = routesFile ? fileSha256(routesFile) : null;
    } catch {
      sha = null;
    }
    this.loadedSha256 = sha;
  }

  routeFileDrift(): DoctorCheck {
    return routeFileDrift(this.routesFile, this.loadedSha256);
  }

  /** `doctor routes` on a running daemon: drift always, slots and references when asked. */
  async routeChecks(opts: { auth: boolean; references: boolean; route?: string }) {
    const routes = this.d.runtime().routes() as unknown as RouteRef[];
    const chosen = opts.route ? routes.filter((r) => r.route_id === opts.route) : routes;
    const checks = [this.routeFileDrift()];
    if (opts.auth) checks.push(...(await checkAuth(chosen, (id) => this.d.secrets.status(id))));
    if (opts.references)
      checks.push(
        ...(await checkReferences(
          this.d.store.db,
          routes.map((r) => r.route_id),
        )),
      );
    return { checks };
  }

  async checks(opts: { integrity: boolean; signal: AbortSignal }): Promise<{ checks: DoctorCheck[] }> {
    const runtime = this.d.runtime();
    const snapshot = runtime.runtime() as Record<string, unknown>;
    const status = (await runtime.status()) as Record<string, unknown>;
    const slots = await this.d.secrets.list().catch(() => []);
    const [disk, integrity, hooks] = await Promise.all([
      diskSpace(this.d.stateRoot),
      opts.integrity ? storeIntegrity(this.d.store, opts.signal) : Promise.resolve([]),
      hookHosts(runtime.settings.value('hooks')),
    ]);
    return {
      checks: [
        disk,
        ...integrity,
        ...masterKey(this.d.secrets, slots.length),
        workspace(this.d.stateRoot, this.d.workspaceRoot),
        ...sandbox(),
        this.routeFileDrift(),
        ...hooks,
        ...mcpServers(snapshot.mcp),
        ...externalConnectors(status.external_connectors),
      ],
    };
  }
}
