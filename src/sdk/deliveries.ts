// Output routing client calls (api-core §3.4, §3.14; api-collab §8): session reply-target
// defaults and the delivery queue (redacted views, dead letters, replay, resolve, metrics).
import type { DaemonClient } from './client.ts';
import type { JsonObject, ListResult, PageQuery, SessionView } from './types.ts';

/** A normalized destination: `address` is plugin-specific (JSON text for http, telegram, slack). */
export interface ReplyHandle extends JsonObject {
  plugin: string;
  address: string;
}

/** A ReplyHandle, or a structured variant: `{type: 'http', url, headers?, allow_private_network?}`, `{type: 'telegram', connector, chat_id}`, … */
export type ReplyTargetRequest = JsonObject;

export type DeliveryStatus = 'pending' | 'retrying' | 'delivered' | 'dead_lettered';

/** Redacted: the plugin and a digest of the target, never its address. */
export interface DeliveryView extends JsonObject {
  delivery_id: string;
  run_id: string;
  session_id: string;
  plugin: string;
  target_digest: string;
  status: DeliveryStatus;
  attempts: number;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface DeliveryListQuery extends PageQuery {
  session_id?: string;
  run_id?: string;
  plugin?: string;
  status?: DeliveryStatus;
}

const enc = encodeURIComponent;

export class DeliveriesResource {
  private readonly http: DaemonClient;

  constructor(http: DaemonClient) {
    this.http = http;
  }

  /** GET /v1/deliveries (delivery_time_asc,delivery_id_asc). */
  list(query: DeliveryListQuery = {}): Promise<ListResult<DeliveryView>> {
    return this.http.request('GET', '/v1/deliveries', { query: { ...query } }) as Promise<
      ListResult<DeliveryView>
    >;
  }

  /** GET /v1/deliveries/dead-letter: the dead letters (same filters but status). */
  deadLetter(query: Omit<DeliveryListQuery, 'status'> = {}): Promise<ListResult<DeliveryView>> {
    return this.http.request('GET', '/v1/deliveries/dead-letter', { query: { ...query } }) as Promise<
      ListResult<DeliveryView>
    >;
  }

  get(deliveryId: string): Promise<DeliveryView> {
    return this.http.request('GET', `/v1/deliveries/${enc(deliveryId)}`) as Promise<DeliveryView>;
  }

  /** A new pending delivery from a dead letter; without `force` a repeat returns the existing replay. */
  replay(deliveryId: string, opts: { force?: boolean } = {}): Promise<DeliveryView> {
    return this.http.request('POST', `/v1/deliveries/${enc(deliveryId)}/replay`, {
      query: opts.force ? { force: 'true' } : {},
    }) as Promise<DeliveryView>;
  }

  /** Marks a dead letter handled without sending it. */
  resolve(deliveryId: string, reason: string): Promise<DeliveryView> {
    return this.http.request('POST', `/v1/deliveries/${enc(deliveryId)}/resolve`, {
      body: { reason },
    }) as Promise<DeliveryView>;
  }

  /** Replays the matching dead letters (oldest first); `dry_run` lists them without replaying. */
  replayBulk(req: {
    session_id?: string;
    run_id?: string;
    plugin?: string;
    limit?: number;
    dry_run?: boolean;
    force?: boolean;
    include_resolved?: boolean;
  }): Promise<{ dry_run: boolean; candidate_delivery_ids: string[]; replays: DeliveryView[] }> {
    return this.http.request('POST', '/v1/deliveries/replay-bulk', { body: req }) as Promise<{
      dry_run: boolean;
      candidate_delivery_ids: string[];
      replays: DeliveryView[];
    }>;
  }

  /** Makes the waiting deliveries of a target digest (or a plugin) due now. */
  resetBackpressure(req: {
    target_digest?: string;
    plugin?: string;
    dry_run?: boolean;
  }): Promise<{ dry_run: boolean; reset_count: number; target_digests: string[] }> {
    return this.http.request('POST', '/v1/deliveries/backpressure/reset', { body: req }) as Promise<{
      dry_run: boolean;
      reset_count: number;
      target_digests: string[];
    }>;
  }

  metrics(): Promise<JsonObject> {
    return this.http.request('GET', '/v1/runtime/deliveries/metrics') as Promise<JsonObject>;
  }

  /** GET /v1/sessions/{id}/reply-targets: the session's default targets as normalized handles. */
  replyTargets(sessionId: string): Promise<{ reply_targets: ReplyHandle[] }> {
    return this.http.request('GET', `/v1/sessions/${enc(sessionId)}/reply-targets`) as Promise<{
      reply_targets: ReplyHandle[];
    }>;
  }

  /** PUT: replaces the defaults (prospective: runs already created keep their snapshot). */
  setReplyTargets(sessionId: string, targets: ReplyTargetRequest[]): Promise<SessionView> {
    return this.http.request('PUT', `/v1/sessions/${enc(sessionId)}/reply-targets`, {
      body: { reply_targets: targets },
    }) as Promise<SessionView>;
  }

  clearReplyTargets(sessionId: string): Promise<SessionView> {
    return this.http.request(
      'DELETE',
      `/v1/sessions/${enc(sessionId)}/reply-targets`,
    ) as Promise<SessionView>;
  }
}
