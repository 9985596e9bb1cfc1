// What other features use of output routing (api-collab §8, api-core §3.14), asked for as
// `k.use<DeliveriesPort>('deliveries')`. The deliveries feature owns the durable queue, retries,
// dead letters and the per-target ordering; each transport (http here, slack, telegram, external
// in the connectors features) registers an OutputPlugin that knows its addresses and how to send.

/** A normalized destination (`ReplyHandle`): `address` is plugin-specific, often serialized JSON. */
export interface ReplyHandle {
  plugin: string;
  address: string;
}

/** One attachment of an output, as `emit_output` persisted it (api-core §3.7). */
export interface DeliveryArtifact {
  id: string;
  media_type: string;
  file_name: string;
}

/** What a plugin is asked to send: one output to one target, attempt N. */
export interface DeliveryItem {
  delivery_id: string;
  attempt: number;
  run_id: string;
  session_id: string;
  target: ReplyHandle;
  content: string;
  parts: unknown[];
  artifacts: DeliveryArtifact[];
  metadata: Record<string, unknown>;
  /** What earlier attempts of this delivery persisted (posted message ts, chunks sent, …). */
  progress: Record<string, unknown>;
}

export type DeliveryOutcome =
  | { status: 'delivered'; detail?: Record<string, unknown> }
  /** Retry later; `retry_after_ms` from the target's Retry-After (capped by the queue). */
  | { status: 'retry'; error_code: string; retry_after_ms?: number }
  /** Never retried: dead-lettered at once (auth refused, chat not found, any other 4xx). */
  | { status: 'terminal'; error_code: string };

export interface DeliveryContext {
  signal: AbortSignal;
  /** Persists step progress durably before the plugin goes on (so a retry resumes, not repeats). */
  saveProgress(progress: Record<string, unknown>): Promise<void>;
  /** The exact bytes of an attachment (re-verified by the assets store). */
  readAsset(assetId: string): Promise<Uint8Array>;
}

export interface OutputPlugin {
  plugin: string;
  /**
   * Whether the receiver deduplicates on `Idempotency-Key: kheish:<delivery_id>`. A delivery whose
   * outcome is unknown after a crash is re-sent only when true; otherwise it waits for an operator.
   */
  receiverDeduplicates: boolean;
  /** Per-target answer when it differs from `receiverDeduplicates` (an http route that says its receiver does not). */
  deduplicates?(target: ReplyHandle): boolean;
  /** Throws a 400 DaemonError for an address this plugin cannot send to (checked when stored and when sent). */
  validateAddress(address: string): Promise<void>;
  /** A structured reply-target request (`{type: 'telegram', connector, chat_id}`) → its handle, or null if not this plugin's. */
  fromStructured?(request: Record<string, unknown>): ReplyHandle | null;
  deliver(item: DeliveryItem, ctx: DeliveryContext): Promise<DeliveryOutcome>;
}

export interface DeliveriesPort {
  registerPlugin(plugin: OutputPlugin): void;
  /** Raw handles and structured variants (§3.4) → validated handles; 400 problem when one is bad. */
  normalizeTargets(requests: unknown[]): Promise<ReplyHandle[]>;
}
