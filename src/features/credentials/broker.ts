// The credential broker (ops-runtime §5.3): the one place that decides whether an execution may
// use a daemon-held credential now. Each use resolves through a short-lived lease bound to a
// subject and an audience; the lease is cached in memory for its lifetime, and a revocation moves
// an epoch that empties every cache at once (in this process directly, in other PostgreSQL
// replicas through the epoch row they read before trusting a cached lease).
import type { Logger } from 'pino';
import { effectiveCredentialScope } from '../../engine/capability-scope.ts';
import type { CredentialGatePort } from '../../engine/ports.ts';
import type { RouteInventory } from '../../models/route-inventory.ts';
import type { RunRow } from '../../store/repos/runs.ts';
import { getSession } from '../../store/repos/sessions.ts';
import type { Store } from '../../store/store.ts';
import {
  type Audience,
  bumpEpoch,
  insertLease,
  type LeaseRow,
  readEpoch,
  revokedSubjects,
  slotRevoked,
  subjectRow,
} from './leases.ts';
import { mcpServerAdmitted, routeAdmitted } from './scope.ts';
import { agentSubject, CREDENTIAL_REVOKED, ROUTE_BLOCKED, sessionSubject } from './subjects.ts';

export interface Refusal {
  code: string;
  message: string;
}

interface Cached {
  row: LeaseRow;
  /** Opaque lease token, held only here (connector sidecars will present it). */
  token: string;
  epoch: number;
}

/** A cached lease is renewed this long before it expires, so no call starts on a dying lease. */
const RENEW_MARGIN_MS = 50;

export class CredentialBroker implements CredentialGatePort {
  private readonly store: Store;
  private readonly routes: RouteInventory;
  private readonly log: Logger;
  readonly ttlMs: number;
  private epoch = 0;
  private readonly cache = new Map<string, Cached>();
  counters = { issued: 0, cache_hits: 0, refused: 0 };

  constructor(o: { store: Store; routes: RouteInventory; log: Logger; ttlMs: number }) {
    this.store = o.store;
    this.routes = o.routes;
    this.log = o.log;
    this.ttlMs = o.ttlMs;
  }

  async load(): Promise<void> {
    this.epoch = await readEpoch(this.store.db);
  }

  get revocationEpoch(): number {
    return this.epoch;
  }

  /** After a revocation committed (here, or seen in the epoch row of another replica). */
  advance(epoch: number): void {
    if (epoch <= this.epoch) return;
    this.epoch = epoch;
    this.cache.clear();
  }

  /** One PK read on PostgreSQL (another replica may have revoked); SQLite has one writer: this one. */
  private async sync(): Promise<void> {
    if (this.store.postgres) this.advance(await readEpoch(this.store.db));
  }

  /** The session's effective credential scope (its own ∩ every ancestor's); null = unconstrained. */
  private async scopeOf(sessionId: string) {
    const session = await getSession(this.store.db, sessionId);
    return session ? effectiveCredentialScope(this.store.db, session) : null;
  }

  async authorizeRoute(run: RunRow, routeId: string): Promise<Refusal | null> {
    const scope = await this.scopeOf(run.session_id);
    if (scope && !routeAdmitted(scope, routeId)) {
      this.counters.refused += 1;
      return {
        code: ROUTE_BLOCKED,
        message: `${ROUTE_BLOCKED}: route \`${routeId}\` is denied by the credential_scope of session ${run.session_id} (or of a parent)`,
      };
    }
    const route = this.routes.get(routeId);
    // Scripted routes and keyless local endpoints hold no credential: nothing to lease.
    if (!route || route.credentialKey === null) return null;
    const slot = route.config.auth_ref ?? null;
    return this.lease(
      sessionSubject(run.session_id),
      [agentSubject(run.agent_id)],
      { type: 'route', route_id: routeId, slot_id: slot },
      slot ? [slot] : [],
    );
  }

  /** The daemon's own calls (model hooks): no session scope, the `daemon` subject's revocations. */
  async authorizeDaemonRoute(routeId: string): Promise<Refusal | null> {
    const route = this.routes.get(routeId);
    if (!route || route.credentialKey === null) return null;
    const slot = route.config.auth_ref ?? null;
    return this.lease('daemon', [], { type: 'route', route_id: routeId, slot_id: slot }, slot ? [slot] : []);
  }

  /** Credentialed MCP servers (ops-runtime §5.4): scope first, then a lease for the server. */
  async authorizeMcp(sessionId: string, server: string, slots: string[]): Promise<Refusal | null> {
    const scope = await this.scopeOf(sessionId);
    if (scope && !mcpServerAdmitted(scope, server)) {
      this.counters.refused += 1;
      return {
        code: 'mcp_server_blocked_by_credential_scope',
        message: `MCP server \`${server}\` uses daemon-held credentials, which this session's credential_scope does not allow`,
      };
    }
    const agent = await this.store.db
      .selectFrom('sessions')
      .select('agent_id')
      .where('session_id', '=', sessionId)
      .executeTakeFirst();
    return this.lease(
      sessionSubject(sessionId),
      agent ? [agentSubject(agent.agent_id)] : [],
      { type: 'mcp_server', server, slot_id: slots[0] ?? null },
      slots,
    );
  }

  /**
   * A live lease for (subject, audience): the cached one while it lives and no revocation
   * happened since, else a new one after checking subjects and slots in the store.
   */
  private async lease(
    subjectId: string,
    alsoSubjects: string[],
    audience: Audience,
    slots: string[],
  ): Promise<Refusal | null> {
    await this.sync();
    const key = `${subjectId}\n${JSON.stringify(audience)}`;
    const hit = this.cache.get(key);
    if (hit && hit.epoch === this.epoch && Date.now() < hit.row.expires_at_ms - RENEW_MARGIN_MS) {
      this.counters.cache_hits += 1;
      return null;
    }
    this.cache.delete(key);
    const epochAtStart = this.epoch;
    const outcome = await this.store.write(async (tx) => {
      const revoked = await revokedSubjects(tx.db, [subjectId, ...alsoSubjects]);
      if (revoked.length) return { refused: `auth subject ${revoked[0]} is revoked` };
      for (const slot of slots)
        if (await slotRevoked(tx.db, slot)) return { refused: `secret slot ${slot} is revoked` };
      const { epoch } = await subjectRow(tx.db, subjectId);
      return insertLease(tx, { subjectId, epoch, audience, slotId: slots[0] ?? null, ttlMs: this.ttlMs });
    });
    if ('refused' in outcome) {
      this.counters.refused += 1;
      return { code: CREDENTIAL_REVOKED, message: `${CREDENTIAL_REVOKED}: ${outcome.refused}` };
    }
    this.counters.issued += 1;
    // A revocation that committed while we issued leaves this lease uncached (it may be revoked).
    if (this.epoch === epochAtStart) this.cache.set(key, { ...outcome, epoch: this.epoch });
    this.log.debug(
      { lease_id: outcome.row.lease_id, subject_id: subjectId, audience },
      'credential lease issued',
    );
    return null;
  }

  /** Runs a revocation in a write transaction and moves the epoch with it. */
  async revoke<T>(fn: (tx: import('../../store/store.ts').WriteTx) => Promise<T>): Promise<T> {
    let epoch = 0;
    const out = await this.store.write(async (tx) => {
      const value = await fn(tx);
      epoch = await bumpEpoch(tx);
      return value;
    });
    this.advance(epoch);
    return out;
  }
}
