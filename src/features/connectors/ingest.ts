// The shared ingress pipeline (api-collab §6–§7): one inbound event becomes exactly one run.
// Order: the input is checked (a bad one leaves nothing), a replay is answered from its receipt
// (the original ids, whatever the routing says today), a new key takes a rate-limit token, the
// session is resolved (fixed id, payload id, bound binding key, natural id, first-key derivation),
// and then the receipt, the binding keys and the run are written in ONE transaction, so a crash
// leaves either all of them or none and a retried event finds its receipt.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Engine } from '../../engine/engine.ts';
import { hasFileItems, prepareForSession } from '../../engine/input-assets.ts';
import { canonicalJson } from '../../engine/output-contract.ts';
import type { StoredRunRequest } from '../../engine/types.ts';
import { userPromptSubmit } from '../../engine/user-prompt-hooks.ts';
import { DaemonError } from '../../errors/daemon-error.ts';
import {
  bindKey,
  boundSessions,
  getReceipt,
  insertReceipt,
  type ReceiptRow,
} from '../../store/repos/connectors.ts';
import { getSession, type SessionRow } from '../../store/repos/sessions.ts';
import type { ReplyHandle } from '../deliveries/port.ts';
import { Attachment, InputItem, type SubmitRunRequest } from '../runs/schema.ts';
import { normalizeSubmission } from '../runs/service.ts';
import { applyInputContract, type InputContract } from '../sessions/contracts.ts';
import { normalizeScope } from '../sessions/service.ts';
import type { IngressEvent, IngressResult, SessionReplyDefaultsPort } from './port.ts';
import type { IngressRateLimiter } from './rate-limit.ts';
import { connectorNotFound, type Entry } from './registry.ts';
import type { SessionPolicy } from './schema.ts';

/** An event's input, in the shapes the runs API takes (a malformed item is a 400, never a 500). */
const IngressInput = z.object({
  content: z.string().optional(),
  input_items: z.array(InputItem).optional(),
  attachments: z.array(Attachment).optional(),
});

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** A stable fingerprint of any JSON payload (key order does not matter). */
export const payloadFingerprint = (payload: unknown) =>
  sha256(`kheish-connector-ingress-v1\n${canonicalJson(payload)}`);

/**
 * The fallback session id of the first binding key (decision 268): the same for every connector,
 * so several connectors emitting one key meet in one session even before it is bound.
 */
export const sessionIdForBindingKey = (key: string) => `binding-${sha256(key).slice(0, 32)}`;

export interface PipelineDeps {
  engine: Engine;
  entry(kind: IngressEvent['kind'], name: string): Promise<Entry | null>;
  limiter: IngressRateLimiter;
  createSession(body: {
    session_id: string;
    persona_id?: string;
    capability_scope?: unknown;
    credential_scope?: unknown;
  }): Promise<unknown>;
  /** The deliveries feature's reply-default methods, when it offers them (null before it lands). */
  replyDefaults(): SessionReplyDefaultsPort | null;
  warn(obj: Record<string, unknown>, msg: string): void;
}

const conflict = (code: string, detail: string, extensions: Record<string, unknown> = {}) =>
  new DaemonError(409, 'connectors', code, detail, {}, extensions);
const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));

function duplicateOf(r: ReceiptRow, fingerprint: string): IngressResult {
  if (r.fingerprint !== fingerprint)
    throw conflict(
      'ingress_idempotency_conflict',
      `this event key was already accepted as run ${r.run_id} in session ${r.session_id} with a different payload`,
      // The original ids travel with the refusal: an external sidecar is answered `rejected`
      // with them (api-collab §6.8), an HTTP caller sees them in the problem document.
      { session_id: r.session_id, run_id: r.run_id },
    );
  return { status: 'duplicate', session_id: r.session_id, run_id: r.run_id };
}

export class IngressPipeline {
  private readonly d: PipelineDeps;
  constructor(deps: PipelineDeps) {
    this.d = deps;
  }

  private get db() {
    return this.d.engine.store.db;
  }

  async ingest(
    first: IngressEvent,
    opts: {
      bucket?: string;
      signal?: AbortSignal;
      prepare?: (event: IngressEvent) => Promise<IngressEvent>;
    } = {},
  ): Promise<IngressResult> {
    let event = first;
    const entry = await this.d.entry(event.kind, event.connector);
    if (!entry) throw connectorNotFound(event.kind, event.connector);
    if (event.event_key === '')
      throw new DaemonError(400, 'connectors', 'invalid_ingress_event', 'the event key must not be empty');
    const keySha = sha256(event.event_key);
    const bindingKeys = [...new Set(event.session.binding_keys ?? [])];
    // The input is checked before anything is reserved: a malformed event leaves no receipt.
    const submission = (e: IngressEvent) => {
      const shape = IngressInput.safeParse(e.input);
      if (!shape.success)
        throw new DaemonError(
          400,
          'sessions',
          'invalid_input',
          shape.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; '),
        );
      return normalizeSubmission({
        source_plugin: e.kind,
        source_kind: 'connector',
        actor_id: e.actor_id,
        ...shape.data,
      } as SubmitRunRequest);
    };
    let base = submission(event);

    const seen = await getReceipt(this.db, event.kind, event.connector, keySha);
    if (seen) return duplicateOf(seen, event.fingerprint);

    const rate = Number(entry.settings.ingress_events_per_second ?? 0);
    const token = this.d.limiter.take(`${event.kind}/${event.connector}/${opts.bucket ?? ''}`, rate);
    if (!token.ok) return { status: 'rate_limited', retry_after_ms: token.retry_after_ms };
    // Media work (chat connectors' file downloads) only for new events within their rate.
    if (opts.prepare) {
      event = await opts.prepare(event);
      base = submission(event);
    }

    const sessionId = await this.resolveSession(event, bindingKeys);
    const policy = (entry.settings.session_policy ?? null) as SessionPolicy | null;
    let session = await getSession(this.db, sessionId);
    if (!session) {
      if (policy?.create_if_missing !== true)
        throw new DaemonError(
          404,
          'connectors',
          'ingress_session_missing',
          `session ${sessionId} does not exist and connector ${event.kind}/${event.connector} does not create sessions (session_policy.create_if_missing)`,
        );
      await this.d.createSession({
        session_id: sessionId,
        ...(policy.persona_id ? { persona_id: policy.persona_id } : {}),
        ...(policy.capability_scope ? { capability_scope: policy.capability_scope } : {}),
        ...(policy.credential_scope ? { credential_scope: policy.credential_scope } : {}),
      });
      session = await getSession(this.db, sessionId);
      if (!session) throw connectorNotFound(event.kind, event.connector);
    }
    checkPolicy(session, policy);

    const explicit = event.reply_targets?.length ? event.reply_targets : null;
    const connectorDefaults = (entry.settings.default_reply_targets ??
      entry.settings.additional_reply_targets) as ReplyHandle[] | undefined;
    let request: StoredRunRequest = {
      ...base,
      metadata: {
        ...event.metadata,
        connector_ingress_key: keySha,
        connector_ingress_connector: `${event.kind}/${event.connector}`,
      },
      ...(bindingKeys.length ? { binding_keys: bindingKeys } : {}),
    };
    if (session.input_contract)
      request = applyInputContract(request, JSON.parse(session.input_contract) as InputContract);
    if (this.d.engine.hooks.has('user_prompt_submit'))
      request = await userPromptSubmit(this.d.engine.hooks, sessionId, request, {
        idempotency: { keyHash: keySha, fingerprint: event.fingerprint },
      });
    // Inline files become assets before the write, as for any submit (the transaction never waits
    // on the assets store); the fingerprint is of the event as sent, so a replay still matches.
    const engine = this.d.engine;
    if (hasFileItems(request))
      request = await prepareForSession(engine.inputAssets, engine.routes, this.db, sessionId, request);
    const defaults = this.d.replyDefaults();

    const outcome = await this.d.engine.store.write(async (tx) => {
      const reserved = await insertReceipt(tx.db, {
        kind: event.kind,
        connector: event.connector,
        key_sha256: keySha,
        fingerprint: event.fingerprint,
        session_id: sessionId,
        // Filled below in the same transaction; nothing outside it ever sees this placeholder.
        run_id: '',
        created_at_ms: tx.now,
      });
      if (!reserved) {
        // Another writer (a concurrent retry, another replica) committed this key first.
        const other = await getReceipt(tx.db, event.kind, event.connector, keySha);
        if (!other) throw new Error('an ingress receipt was neither inserted nor found');
        return duplicateOf(other, event.fingerprint);
      }
      for (const key of bindingKeys)
        await bindKey(tx.db, { binding_key: key, session_id: sessionId, created_at_ms: tx.now });
      const bound = await boundSessions(tx.db, bindingKeys);
      for (const [key, sid] of bound) if (sid !== sessionId) throw bindingConflict(key, sid, sessionId);
      const targets =
        explicit ??
        connectorDefaults ??
        (defaults?.sessionReplyDefaults ? await defaults.sessionReplyDefaults(tx.db, sessionId) : []);
      const stored: StoredRunRequest = targets.length ? { ...request, reply_targets: targets } : request;
      const { run } = await this.d.engine.submitInTx(tx, sessionId, stored, { kind: 'input' });
      await tx.db
        .updateTable('connector_receipts')
        .set({ run_id: run.run_id })
        .where('kind', '=', event.kind)
        .where('connector', '=', event.connector)
        .where('key_sha256', '=', keySha)
        .execute();
      return { status: 'accepted' as const, session_id: sessionId, run_id: run.run_id };
    }, 'ack');

    // §7: explicit targets become the session's future defaults, after the run is scheduled; the
    // run itself keeps its snapshot. A failure here never undoes the accepted run.
    if (outcome.status === 'accepted' && explicit && defaults?.writeBackReplyDefaults)
      await defaults
        .writeBackReplyDefaults(sessionId, explicit)
        .catch((err: unknown) =>
          this.d.warn({ session_id: sessionId, err: String(err) }, 'reply-target write-back failed'),
        );
    return outcome;
  }

  /** §6.4 order: fixed id, payload id, a session bound to a given key, natural id, first-key derivation. */
  private async resolveSession(event: IngressEvent, keys: string[]): Promise<string> {
    const bound = await boundSessions(this.db, keys);
    const explicit = event.session.fixed_session_id || event.session.session_id || null;
    if (explicit) {
      // #69: a key bound elsewhere never follows a request to another session.
      for (const [key, sid] of bound) if (sid !== explicit) throw bindingConflict(key, sid, explicit);
      return explicit;
    }
    const sessions = new Set(bound.values());
    if (sessions.size > 1)
      throw conflict(
        'binding_key_conflict',
        `the binding keys of this event are bound to different sessions (${[...sessions].join(', ')})`,
      );
    if (sessions.size === 1) return [...sessions][0]!;
    if (event.session.natural_session_id) return event.session.natural_session_id;
    if (keys.length) return sessionIdForBindingKey(keys[0]!);
    throw new DaemonError(
      400,
      'connectors',
      'ingress_session_unresolved',
      'no session for this event: configure fixed_session_id, or send session_id or binding_keys',
    );
  }
}

const bindingConflict = (key: string, bound: string, wanted: string) =>
  conflict(
    'binding_key_conflict',
    `binding key ${JSON.stringify(key)} is bound to session ${bound}; it cannot be used for session ${wanted}`,
  );

/** §6.3: an existing session must agree with the connector's policy; it is never rebound. */
function checkPolicy(s: SessionRow, policy: SessionPolicy | null): void {
  if (!policy) return;
  const clash: string[] = [];
  if (policy.persona_id && policy.persona_id !== s.persona_id) clash.push('persona');
  if (policy.capability_scope && json(normalizeScope(policy.capability_scope)) !== s.capability_scope)
    clash.push('capability scope');
  if (policy.credential_scope && json(normalizeScope(policy.credential_scope)) !== s.credential_scope)
    clash.push('credential scope');
  if (clash.length)
    throw conflict(
      'session_policy_conflict',
      `session ${s.session_id} has a different ${clash.join(' and ')} than the connector's session_policy; it is not rebound`,
    );
}
