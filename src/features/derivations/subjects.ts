// Subject resolution (api-core §8.5): an asset, an observation, or one item of a session's
// persisted input. Every failure here is a validation error: nothing is persisted for it.

import { sessionInputs } from '../../store/repos/derivations.ts';
import { getSession } from '../../store/repos/sessions.ts';
import type { AssetsPort, AssetView } from '../assets/port.ts';
import type { Kernel } from '../feature.ts';
import { derivationErrors as E } from './errors.ts';
import type { ObservationSubjectRecord, ObservationsForDerivations } from './observations-port.ts';
import type { DerivationSubject } from './schema.ts';

export interface ResolvedSubject {
  subject: DerivationSubject;
  /** The stable part of the cache key naming the subject. */
  key: string;
  /** The media the profile works on. */
  asset: AssetView;
  observation: ObservationSubjectRecord | null;
  /** A canonical text the subject already carries (an observation's), reused as is. */
  canonicalTextAssetId: string | null;
  /** The session a session-input subject belongs to (events are scoped to it). */
  sessionId: string | null;
}

/** One item of a session's input, in the order the session received them. */
interface InputItemRef {
  type: string;
  asset_id?: string;
}

/**
 * The session's input items as one ordered list (decision #252): each `input_received` entry in
 * journal order contributes its `input_items`, or, in the legacy shape, its non-empty `content` as
 * one text item followed by its `attachments`.
 */
export function flattenInputs(requests: Array<Record<string, unknown>>): InputItemRef[] {
  const out: InputItemRef[] = [];
  const asRef = (v: unknown): InputItemRef => {
    const o = (v ?? {}) as Record<string, unknown>;
    return {
      type: typeof o.type === 'string' ? o.type : 'unknown',
      ...(typeof o.asset_id === 'string' ? { asset_id: o.asset_id } : {}),
    };
  };
  for (const req of requests) {
    const items = req.input_items;
    if (Array.isArray(items) && items.length > 0) {
      for (const i of items) out.push(asRef(i));
      continue;
    }
    if (typeof req.content === 'string' && req.content.trim() !== '') out.push({ type: 'text' });
    if (Array.isArray(req.attachments)) for (const a of req.attachments) out.push(asRef(a));
  }
  return out;
}

async function assetOrThrow(assets: AssetsPort, assetId: string, what: string): Promise<AssetView> {
  const asset = await assets.get(assetId);
  if (!asset) throw E.subjectNotFound(`${what}: asset ${assetId} was not found`);
  return asset;
}

function observationsOf(k: Kernel): ObservationsForDerivations | null {
  try {
    return k.use<ObservationsForDerivations>('observations');
  } catch {
    return null;
  }
}

export async function resolveSubject(k: Kernel, subject: DerivationSubject): Promise<ResolvedSubject> {
  const assets = k.use<AssetsPort>('assets');
  const base = { subject, observation: null, canonicalTextAssetId: null, sessionId: null };
  if (subject.type === 'asset') {
    const asset = await assetOrThrow(assets, subject.asset_id, 'subject');
    return { ...base, key: `asset:${subject.asset_id}`, asset };
  }
  if (subject.type === 'observation') {
    const observations = observationsOf(k);
    if (!observations) throw E.observationsUnavailable();
    const o = await observations.get(subject.observation_id);
    if (!o) throw E.subjectNotFound(`observation ${subject.observation_id} was not found`);
    if (o.retention_state !== 'active' || !o.asset_id)
      throw E.subjectInactive(
        `observation ${subject.observation_id} is ${o.retention_state}: purged observations cannot be derived`,
      );
    if (!(await observations.sourceAllowsUse(subject.observation_id)))
      throw E.subjectInactive(
        `the source of observation ${subject.observation_id} is disabled or does not allow derivation`,
      );
    const asset = await assets.get(o.asset_id);
    if (!asset)
      throw E.subjectInactive(
        `the raw asset of observation ${subject.observation_id} is no longer available`,
      );
    return {
      ...base,
      key: `observation:${subject.observation_id}`,
      asset,
      observation: o,
      canonicalTextAssetId: o.canonical_text_asset_id,
    };
  }
  const session = await getSession(k.store.db, subject.session_id);
  if (!session) throw E.subjectNotFound(`session ${subject.session_id} was not found`);
  const inputs = await sessionInputs(k.store.db, subject.session_id);
  const items = flattenInputs(inputs.map((i) => i.request));
  const item = items[subject.offset];
  if (!item)
    throw E.subjectNotFound(
      `session ${subject.session_id} has ${items.length} input item(s); offset ${subject.offset} names none`,
    );
  if (item.asset_id === undefined)
    throw E.unsupported(
      `input item ${subject.offset} of session ${subject.session_id} is a ${item.type} item, not an asset: only asset items can be derived`,
    );
  const asset = await assetOrThrow(assets, item.asset_id, `input item ${subject.offset}`);
  return {
    ...base,
    key: `session_input:${subject.session_id}:${subject.offset}`,
    asset,
    sessionId: subject.session_id,
  };
}
