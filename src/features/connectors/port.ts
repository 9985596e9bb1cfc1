// What the transport features (HTTP, Slack, Telegram, external sidecars) use of the connector
// registry and the shared ingress pipeline (api-collab §6–§7), asked for as
// `k.use<ConnectorsPort>('connectors')`. The connectors feature owns the registry (file-backed and
// runtime-managed), secret resolution, receipts, rate limits, session resolution and run creation,
// so every transport turns one inbound event into exactly one run the same way.
import type { ReplyHandle } from '../deliveries/port.ts';

export type ConnectorKind = 'http' | 'slack' | 'telegram' | 'external';

/** One resolved connector: its settings without secret values. */
export interface ConnectorRecord {
  kind: ConnectorKind;
  name: string;
  source: 'file' | 'daemon';
  /** Non-secret settings as stored (kind-specific fields, session_policy, reply targets…). */
  settings: Record<string, unknown>;
  /** Secret fields that are configured (`bot_token`, `signing_secret`, `shared_token`, …). */
  secret_fields: string[];
}

/** A kind's rules, registered by its feature: validation and the view's kind-specific extras. */
export interface ConnectorKindAdapter {
  kind: ConnectorKind;
  /** The secret fields this kind has (each with `_env` / `_secret_ref` spellings in TOML). */
  secretFields: readonly string[];
  /** Throws a 400 DaemonError when the merged settings are not valid for this kind. */
  validate(settings: Record<string, unknown>, secretsConfigured: ReadonlySet<string>): Promise<void>;
  /**
   * Called after a connector of this kind is created, changed or deleted (start/stop polling, a
   * sidecar…), on the replica that made the change; other replicas see a durable
   * `connector_updated` event ({kind, name, action}) on the event log and may subscribe to it.
   */
  onChange?(name: string, record: ConnectorRecord | null): Promise<void>;
  /** The settings as views show them, when a kind projects some (external: env keys, not values). */
  viewSettings?(settings: Record<string, unknown>): Record<string, unknown>;
}

/** One inbound event, already authenticated and parsed by its transport. */
export interface IngressEvent {
  kind: ConnectorKind;
  connector: string;
  /** The transport's event identity (idempotency key, Slack event_id, update_id, event_id); hashed before storage. */
  event_key: string;
  /** Fingerprint of the payload: the same key with another fingerprint is a 409 conflict. */
  fingerprint: string;
  authenticated: boolean;
  /** Session resolution inputs, tried in the transport's documented order. */
  session: {
    fixed_session_id?: string | null;
    session_id?: string | null;
    binding_keys?: string[];
    /** A natural id derived from the conversation (thread, chat, channel), when nothing else resolves. */
    natural_session_id?: string | null;
  };
  actor_id: string;
  /** The run input: `content` (+ `attachments`) or `input_items`, as the runs API takes them. */
  input: { content?: string; input_items?: unknown[]; attachments?: unknown[] };
  /** Run input metadata, including the transport's reserved keys (hashed ingress key, fingerprint…). */
  metadata: Record<string, unknown>;
  /** Explicit reply targets of this event (written back as session defaults, §7); else the connector's. */
  reply_targets?: ReplyHandle[];
}

export type IngressResult =
  | { status: 'accepted' | 'duplicate'; session_id: string; run_id: string }
  /** The connector's token bucket is empty: answer 429 with Retry-After; no receipt was reserved. */
  | { status: 'rate_limited'; retry_after_ms: number };

export interface ConnectorsPort {
  registerKind(adapter: ConnectorKindAdapter): void;
  get(kind: ConnectorKind, name: string): Promise<ConnectorRecord | null>;
  /** A secret field's value by the documented precedence (secret slot, env, inline); null when unset. */
  secret(kind: ConnectorKind, name: string, field: string): Promise<string | null>;
  /**
   * Exactly one run per event key: takes a rate-limit token only for unseen keys, reserves a hashed
   * receipt, resolves the session (binding keys sticky, session_policy), submits the run and its
   * reply-target snapshot. Conflicting replays throw 409; a replay returns the original ids.
   * `bucket` narrows the rate limit (Slack: team/channel).
   */
  ingest(
    event: IngressEvent,
    opts?: {
      bucket?: string;
      signal?: AbortSignal;
      /**
       * Completes the event's input once its key is known to be new and a rate-limit token was
       * taken, before the run is created (Telegram/Slack media downloads): a duplicate or a
       * rate-limited event never pays for them (api-collab §6.6). Called at most once.
       */
      prepare?: (event: IngressEvent) => Promise<IngressEvent>;
    },
  ): Promise<IngressResult>;
  /** Every connector of a kind, file-backed and runtime (Telegram pollers at start and on each replica). */
  listRecords(kind: ConnectorKind): Promise<ConnectorRecord[]>;
}

/**
 * What the connectors feature asks of the deliveries feature's service beyond DeliveriesPort, when
 * it offers it (each method is optional until the deliveries feature lands): session reply-target
 * defaults are stored by deliveries (api-core #28), the connectors feature snapshots and writes
 * them back (§7) and clears the ones a deleted connector leaves invalid (§6.2).
 */
export interface SessionReplyDefaultsPort {
  /** The session's stored default targets as handles, read inside the caller's transaction. */
  sessionReplyDefaults?(
    db: import('../../store/schema.ts').Executor,
    sessionId: string,
  ): Promise<ReplyHandle[]>;
  /** §7 write-back: the session's future runs default to these explicit targets of an ingress. */
  writeBackReplyDefaults?(sessionId: string, targets: ReplyHandle[]): Promise<void>;
  /** After a connector is deleted: drops session defaults that name it; returns how many sessions changed. */
  clearConnectorTargets?(kind: ConnectorKind, name: string): Promise<number>;
}
