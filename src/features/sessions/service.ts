// Session rules: create-or-reuse, scopes and route policy, end/interrupt, event log view.
import { monotonicFactory } from 'ulid';
import type { Budget } from '../../engine/budgets.ts';
import { normalizeScope } from '../../engine/capability-scope.ts';
import type { Engine } from '../../engine/engine.ts';
import { clampRepairs, compileSchema, type OutputContract } from '../../engine/output-contract.ts';
import type { PersonaSnapshot } from '../../engine/persona-snapshot.ts';
import {
  buildSessionSummary,
  buildSessionView,
  buildSnapshot,
  SESSION_OUTPUTS_LIMIT,
} from '../../engine/views.ts';
import { DaemonError, errors } from '../../errors/daemon-error.ts';
import { hasLiveDescendant } from '../../store/repos/agents.ts';
import { outputsOfSession, sessionRunEvents } from '../../store/repos/journal.ts';
import { countMailboxMessages } from '../../store/repos/mailboxes.ts';
import { liveRunsOfSession } from '../../store/repos/runs.ts';
import {
  getSession,
  insertSession,
  listSessions,
  type SessionRow,
  updateSession,
} from '../../store/repos/sessions.ts';
import type { Executor } from '../../store/schema.ts';
import { type InputContract, normalizeInputContract } from './contracts.ts';
import type {
  CapabilityScope,
  CreateSessionRequest,
  CredentialScope,
  OutputContractInput,
  RoutePolicy,
} from './schema.ts';

const ulid = monotonicFactory();

// The scope algebra lives with the effective-scope computation (one module for both).
export { normalizeScope } from '../../engine/capability-scope.ts';

/** Slashes would break URL paths; control characters break logs and headers. */
const hasForbiddenChars = (id: string) =>
  [...id].some((c) => c === '/' || c === '\\' || c.charCodeAt(0) < 0x20);

/** Checks the schema subset and clamps the repair budget (default 3, at most 5). */
export function normalizeContract(input: OutputContractInput | null | undefined): OutputContract | null {
  if (!input) return null;
  try {
    compileSchema(input.schema);
  } catch (err) {
    throw new DaemonError(400, 'sessions', 'output_contract_schema_unsupported', (err as Error).message);
  }
  return { schema: input.schema, max_repair_attempts: clampRepairs(input.max_repair_attempts) };
}

const json = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));

/**
 * The topology idle rule (api-core §3.4): persona and scope changes wait while the session has a
 * live run (active, queued, or waiting for a person), undelivered mailbox messages, or a
 * descendant agent with live work. Null when idle, else why not.
 */
async function topologyBusy(db: Executor, s: SessionRow): Promise<string | null> {
  if ((await liveRunsOfSession(db, s.session_id)).length > 0) return 'has active, queued or waiting runs';
  if ((await countMailboxMessages(db, s.agent_id)) > 0) return 'has undelivered mailbox messages';
  if (await hasLiveDescendant(db, s.session_id)) return 'has child agents with live work';
  return null;
}

/** What sessions need of the personas feature: a snapshot made inside the binding transaction. */
export interface PersonaSnapshots {
  snapshot(db: Executor, personaId: string, now: number): Promise<PersonaSnapshot>;
}

export class SessionsService {
  private readonly engine: Engine;
  private readonly personas: PersonaSnapshots;
  constructor(engine: Engine, personas: PersonaSnapshots) {
    this.engine = engine;
    this.personas = personas;
  }

  private get db() {
    return this.engine.store.db;
  }

  async require(id: string): Promise<SessionRow> {
    const s = await getSession(this.db, id);
    if (!s) throw errors.sessionNotFound(id);
    return s;
  }

  async view(id: string) {
    return buildSessionView(this.db, await this.require(id));
  }

  async create(body: CreateSessionRequest) {
    const id = body.session_id ?? `session-${ulid().toLowerCase()}`;
    if (id.trim() === '' || /^\.+$/.test(id) || hasForbiddenChars(id)) {
      throw new DaemonError(
        400,
        'sessions',
        'invalid_session_id',
        'session_id must be non-empty, not "." or "..", without slashes or control characters',
      );
    }
    const capability = normalizeScope(body.capability_scope);
    const credential = normalizeScope(body.credential_scope);
    if (this.engine.hooks.has('session_start') && !(await getSession(this.db, id)))
      await this.sessionStart(id, body);
    const row = await this.engine.store.write(async (tx) => {
      const existing = await getSession(tx.db, id);
      if (existing) {
        const conflict =
          (body.persona_id !== undefined && body.persona_id !== existing.persona_id) ||
          (body.capability_scope !== undefined && json(capability) !== existing.capability_scope) ||
          (body.credential_scope !== undefined && json(credential) !== existing.credential_scope);
        if (conflict)
          throw new DaemonError(
            409,
            'sessions',
            'session_binding_conflict',
            `session ${id} already exists with a different persona or scope; change them with the session's persona and scope endpoints instead`,
          );
        if (existing.ended_at_ms !== null) {
          await updateSession(tx.db, id, { ended_at_ms: null, end_reason: null, updated_at_ms: tx.now });
          return { ...existing, ended_at_ms: null, end_reason: null };
        }
        return existing;
      }
      // The snapshot is taken in the creating transaction: the session binds exactly this version.
      const persona =
        body.persona_id === undefined ? null : await this.personas.snapshot(tx.db, body.persona_id, tx.now);
      const created: SessionRow = {
        session_id: id,
        agent_id: `agent-${ulid().toLowerCase()}`,
        thread_id: body.thread_id ?? null,
        created_at_ms: tx.now,
        updated_at_ms: tx.now,
        ended_at_ms: null,
        end_reason: null,
        route_policy: null,
        capability_scope: json(capability),
        credential_scope: json(credential),
        reply_targets: null,
        persona: json(persona),
        persona_id: persona?.persona_id ?? null,
        budget: null,
        output_contract: null,
        input_contract: null,
        permission_rules: null,
      };
      await insertSession(tx.db, created);
      return created;
    });
    return buildSessionView(this.db, row);
  }

  /** `session_start` hooks of a new session, before it is stored: a block refuses the creation. */
  private async sessionStart(id: string, body: CreateSessionRequest): Promise<void> {
    const v = await this.engine.hooks.fire(
      {
        event: 'session_start',
        identity: id,
        session_id: id,
        payload: { session_id: id, thread_id: body.thread_id ?? null },
      },
      AbortSignal.timeout(60_000),
    );
    if (v.blocked)
      throw new DaemonError(
        409,
        'sessions',
        'session_start_blocked',
        `a session_start hook refused to start session ${id}: ${v.reason}`,
      );
  }

  async list(q: { after?: string; limit?: number; persona_id?: string }) {
    const { rows, total } = await listSessions(this.db, {
      after_id: q.after,
      limit: q.limit ?? 1_000_000,
      persona_id: q.persona_id,
    });
    const items = await Promise.all(rows.map((r) => buildSessionSummary(this.db, r)));
    return { items, total, lastKey: rows.at(-1)?.session_id };
  }

  async setRoutePolicy(id: string, policy: RoutePolicy | null) {
    if (policy?.provider !== undefined && !this.engine.routes.get(policy.provider)) {
      throw new DaemonError(
        400,
        'routes',
        'unknown_route',
        `route \`${policy.provider}\` is not configured; known routes: ${this.engine.routes
          .list()
          .map((r) => r.config.route_id)
          .join(', ')}`,
      );
    }
    return this.patch(
      id,
      { route_policy: json(policy && Object.keys(policy).length ? policy : null) },
      false,
    );
  }

  async setBudget(id: string, budget: Budget | null) {
    return this.patch(id, { budget: json(budget && Object.keys(budget).length ? budget : null) }, false);
  }

  /** Prospective: queued and running runs keep the contract they were submitted with. */
  async setOutputContract(id: string, contract: OutputContractInput | null) {
    return this.patch(id, { output_contract: json(normalizeContract(contract)) }, false);
  }

  /** Prospective like the output contract: runs already submitted keep their input. */
  async setInputContract(id: string, contract: { schema: Record<string, unknown> } | null) {
    return this.patch(id, { input_contract: json(normalizeInputContract(contract)) }, false);
  }

  /** Both contracts of a session as their endpoints show them (null when not set). */
  async contracts(id: string): Promise<{ output: OutputContract | null; input: InputContract | null }> {
    const s = await this.require(id);
    return {
      output: s.output_contract ? (JSON.parse(s.output_contract) as OutputContract) : null,
      input: s.input_contract ? (JSON.parse(s.input_contract) as InputContract) : null,
    };
  }

  async setCapabilityScope(id: string, scope: CapabilityScope | null) {
    return this.patch(id, { capability_scope: json(normalizeScope(scope)) }, true);
  }

  async setCredentialScope(id: string, scope: CredentialScope | null) {
    return this.patch(id, { credential_scope: json(normalizeScope(scope)) }, true);
  }

  /**
   * Binds a snapshot of the persona's current record (null clears the binding). A topology
   * mutation like the scopes: only while idle. Runs already queued never see it (they cannot exist).
   */
  async setPersona(id: string, personaId: string | null) {
    return this.patch(
      id,
      async (db, now) => {
        const persona = personaId === null ? null : await this.personas.snapshot(db, personaId, now);
        return { persona: json(persona), persona_id: persona?.persona_id ?? null };
      },
      true,
    );
  }

  /** Scope changes are topology mutations: only while the session is idle (no active/queued run). */
  private async patch(
    id: string,
    change: Partial<SessionRow> | ((db: Executor, now: number) => Promise<Partial<SessionRow>>),
    requireIdle: boolean,
  ) {
    const row = await this.engine.store.write(async (tx) => {
      const s = await getSession(tx.db, id);
      if (!s) throw errors.sessionNotFound(id);
      const busy = requireIdle ? await topologyBusy(tx.db, s) : null;
      if (busy)
        throw new DaemonError(
          409,
          'sessions',
          'session_not_idle',
          `session ${id} ${busy}; retry when it is idle`,
        );
      const fields = typeof change === 'function' ? await change(tx.db, tx.now) : change;
      await updateSession(tx.db, id, { ...fields, updated_at_ms: tx.now });
      return { ...s, ...fields, updated_at_ms: tx.now };
    });
    return buildSessionView(this.db, row);
  }

  async end(id: string, reason: string | null) {
    await this.engine.endSession(id, reason);
    return this.view(id);
  }

  async interrupt(id: string) {
    const { interrupted } = await this.engine.interruptSession(id);
    return { interrupted, snapshot: await buildSnapshot(this.db, await this.require(id)) };
  }

  async eventLog(id: string) {
    const session = await this.view(id);
    return {
      session,
      daemon_outputs: await outputsOfSession(this.db, id, SESSION_OUTPUTS_LIMIT),
      run_events: await sessionRunEvents(this.db, id),
    };
  }
}
