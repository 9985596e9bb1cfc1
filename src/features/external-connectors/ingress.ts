// One external event → the shared ingress pipeline (api-collab §6.8): input shape and limits,
// reserved metadata keys, the instance check of child-process sidecars, the session inputs in the
// documented order (fixed id → bound binding keys → thread.path → routing_key), the natural id,
// the fingerprint, reply targets, and inline assets stored through the assets feature.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../engine/output-contract.ts';
import { DaemonError } from '../../errors/daemon-error.ts';
import type { AssetsPort } from '../assets/port.ts';
import type { IngressEvent } from '../connectors/port.ts';
import type { ReplyHandle } from '../deliveries/port.ts';
import { type EventAttachment, type EventInputItem, type ExternalEventBody, LIMITS } from './protocol.ts';
import type { ExternalSettings } from './settings.ts';

export const sha256hex = (s: string) => createHash('sha256').update(s).digest('hex');

/** Run-input metadata keys the daemon writes; an event may not set them (decision 314). */
export const RESERVED_METADATA_KEYS = [
  'connector_ingress_key',
  'external_protocol_version',
  'external_event_key_sha256',
  'external_event_fingerprint',
  'external_intent',
  'external_relation',
  'external_routing_key',
  'external_event_id',
  'external_source_kind',
  'external_thread_path',
  'external_occurred_at_ms',
  'external_connector',
] as const;

const bad = (code: string, detail: string) => new DaemonError(400, 'connectors', code, detail);

/** What identifies the conversation: a non-empty thread.path, else a routing_key, else nothing. */
export function conversationOf(
  e: ExternalEventBody,
): { kind: 'thread' | 'routing_key'; value: unknown } | null {
  const path = e.thread?.path ?? [];
  if (path.length > 0) return { kind: 'thread', value: path };
  if (e.routing_key !== undefined && e.routing_key !== '')
    return { kind: 'routing_key', value: e.routing_key };
  return null;
}

/**
 * The natural session id (decision 312): `external:<connector>:` and the first 16 hex digits of
 * sha256 over the canonical JSON of `[kind, value]`, kind `thread` (value: the path array) or
 * `routing_key` (value: the string). The two kinds never collide; the connector name keeps two
 * connectors' conversations apart.
 */
export function naturalSessionId(connector: string, conv: { kind: string; value: unknown }): string {
  return `external:${connector}:${sha256hex(canonicalJson([conv.kind, conv.value])).slice(0, 16)}`;
}

/** The binding key of a conversation (decision 313), so a conversation bound once stays put. */
export const conversationBindingKey = (connector: string, conv: { kind: string; value: unknown }) =>
  `external:${connector}:${conv.kind}:${sha256hex(canonicalJson(conv.value)).slice(0, 32)}`;

/** The replay fingerprint: the event as sent, without the fields that may change between retries. */
export function eventFingerprint(e: ExternalEventBody): string {
  const { instance_id: _i, ...rest } = e as ExternalEventBody & { protocol_version?: number };
  delete (rest as { protocol_version?: number }).protocol_version;
  return sha256hex(`kheish-external-event-v1\n${canonicalJson(rest)}`);
}

/** The input shape and per-event limits; returns how many inline assets the event carries. */
export function checkInput(e: ExternalEventBody, authenticated: boolean): void {
  const hasItems = e.input_items !== undefined;
  const hasContent = e.content !== undefined;
  const hasAttachments = e.attachments !== undefined && e.attachments.length > 0;
  if (hasItems && (hasContent || e.attachments !== undefined))
    throw bad('invalid_input_shape', 'input_items cannot be combined with content or attachments');
  if (!hasItems && !hasContent)
    throw bad('invalid_input_shape', 'an event carries content, content with attachments, or input_items');
  if (hasItems && e.input_items!.length === 0) throw bad('invalid_input_shape', 'input_items is empty');
  if (hasContent && e.content!.trim() === '' && !hasAttachments)
    throw bad('invalid_input_shape', 'content is empty and there is nothing else to read');
  const items: Array<EventInputItem | EventAttachment> = [...(e.input_items ?? []), ...(e.attachments ?? [])];
  const inline = items.filter((i) => i.type === 'inline_asset');
  if (inline.length > LIMITS.inlineAssets)
    throw bad('event_too_large', `at most ${LIMITS.inlineAssets} inline assets per event`);
  for (const i of inline) {
    if (i.type !== 'inline_asset') continue;
    if (Math.floor((i.content_base64.length * 3) / 4) > LIMITS.inlineAssetBytes + 3)
      throw bad(
        'event_too_large',
        `inline asset ${i.file_name.slice(0, 80)} is larger than ${LIMITS.inlineAssetBytes} bytes`,
      );
  }
  if (!authenticated && items.some((i) => i.type !== 'text'))
    throw bad(
      'unauthenticated_assets_refused',
      'unauthenticated ingress takes text only: assets and boards need the shared token',
    );
  if (e.metadata !== undefined) {
    if (Buffer.byteLength(JSON.stringify(e.metadata)) > LIMITS.metadataBytes)
      throw bad('event_too_large', `metadata is larger than ${LIMITS.metadataBytes} bytes`);
    const reserved = RESERVED_METADATA_KEYS.filter((k) => k in e.metadata!);
    if (reserved.length)
      throw bad('reserved_metadata_key', `metadata may not set daemon-owned keys: ${reserved.join(', ')}`);
  }
}

/** `{connector, route}` as the `external` plugin's address. */
export const externalAddress = (connector: string, route: string) => JSON.stringify({ connector, route });

export function replyTargetsOf(
  name: string,
  s: ExternalSettings,
  e: ExternalEventBody,
): ReplyHandle[] | undefined {
  const self =
    s.include_self_output && e.reply_route !== undefined
      ? [{ plugin: 'external', address: externalAddress(name, e.reply_route) }]
      : [];
  const all = [...self, ...s.additional_reply_targets];
  return all.length ? all : undefined;
}

async function storeInline<T extends EventInputItem | EventAttachment>(
  items: T[] | undefined,
  assets: AssetsPort,
  signal?: AbortSignal,
): Promise<
  Array<Exclude<T, { type: 'inline_asset' }> | { type: 'asset_reference'; asset_id: string }> | undefined
> {
  if (!items) return undefined;
  const out = [];
  for (const item of items) {
    if (item.type !== 'inline_asset') {
      out.push(item as Exclude<T, { type: 'inline_asset' }>);
      continue;
    }
    const bytes = Buffer.from(item.content_base64, 'base64');
    if (bytes.length === 0)
      throw bad('invalid_inline_asset', `inline asset ${item.file_name.slice(0, 80)} is empty`);
    const view = await assets.import(
      { file_name: item.file_name, media_type: item.media_type, bytes },
      signal,
    );
    out.push({ type: 'asset_reference' as const, asset_id: view.asset_id });
  }
  return out;
}

/** The pipeline's event. Inline assets are stored first (identical bytes give the same asset). */
export async function toIngressEvent(
  o: {
    name: string;
    settings: ExternalSettings;
    event: ExternalEventBody;
    protocolVersion: number;
    authenticated: boolean;
    assets: AssetsPort;
  },
  signal?: AbortSignal,
): Promise<IngressEvent> {
  const { name, settings: s, event: e } = o;
  const fingerprint = eventFingerprint(e);
  const conv = conversationOf(e);
  const fixed = s.fixed_session_id ?? null;
  // A fixed session takes every event: its conversation keys are not bound (a later change of
  // fixed_session_id would otherwise meet keys bound to the old session).
  const binding = [
    ...s.additional_binding_keys,
    ...(conv && !fixed ? [conversationBindingKey(name, conv)] : []),
  ];
  const metadata: Record<string, unknown> = {
    ...(e.metadata ?? {}),
    external_connector: name,
    external_protocol_version: o.protocolVersion,
    external_event_id: e.event_id,
    external_event_key_sha256: sha256hex(e.event_id),
    external_event_fingerprint: fingerprint,
    ...(e.source_kind !== undefined ? { external_source_kind: e.source_kind } : {}),
    ...(e.intent !== undefined ? { external_intent: e.intent } : {}),
    ...(e.relation !== undefined ? { external_relation: e.relation } : {}),
    ...(e.routing_key !== undefined ? { external_routing_key: e.routing_key } : {}),
    ...(e.thread?.path?.length ? { external_thread_path: e.thread.path } : {}),
    ...(e.occurred_at_ms !== undefined ? { external_occurred_at_ms: e.occurred_at_ms } : {}),
  };
  const input: IngressEvent['input'] = {};
  if (e.input_items !== undefined) input.input_items = await storeInline(e.input_items, o.assets, signal);
  else {
    input.content = e.content ?? '';
    if (e.attachments?.length) input.attachments = await storeInline(e.attachments, o.assets, signal);
  }
  return {
    kind: 'external',
    connector: name,
    event_key: e.event_id,
    fingerprint,
    authenticated: o.authenticated,
    session: {
      fixed_session_id: fixed,
      binding_keys: binding,
      natural_session_id: conv ? naturalSessionId(name, conv) : null,
    },
    actor_id: e.actor_id ?? `external:${name}`,
    input,
    metadata,
    reply_targets: replyTargetsOf(name, s, e),
  };
}
