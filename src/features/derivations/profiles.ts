// What each profile does with each kind of media (api-core §8.5, decisions #255–#258), as a plan
// made before any work (every refusal here persists nothing) and its execution.
import { createHash } from 'node:crypto';
import { DaemonError } from '../../errors/daemon-error.ts';
import type { AssetsPort, AssetView } from '../assets/port.ts';
import type { Kernel } from '../feature.ts';
import { derivationErrors as E } from './errors.ts';
import type { DerivationBackend, Profile } from './schema.ts';
import type { ResolvedSubject } from './subjects.ts';
import {
  hasOptions,
  type NormalizedTranscription,
  optionsDigest,
  PIPELINE_VERSION,
  planTranscription,
  STITCHING_STRATEGY,
  TranscriptionFailure,
  type TranscriptionPlan,
  transcribeAudio,
} from './transcription.ts';

/** Bumped when a profile's output for the same source changes: old cache entries stop matching. */
export const PROFILE_VERSIONS: Record<Profile, number> = { canonical_text: 1, visual_preview: 1 };

const TEXT_TYPES = new Set(['text/plain', 'text/csv', 'text/markdown', 'application/json']);
const isImage = (t: string) => t === 'image/png' || t === 'image/jpeg';
const isAudio = (t: string) => t.startsWith('audio/');

type Step =
  /** The result is an asset that already exists (the subject itself, or its canonical text). */
  | { kind: 'reuse'; asset_id: string }
  /** The asset's derived text (documents, an attached transcript) as a text/plain asset. */
  | { kind: 'derived_text' }
  /** A placeholder when no text can be derived (decisions #256, #257). */
  | { kind: 'notice'; text: string }
  | { kind: 'transcribe'; backend: TranscriptionPlan }
  /** The asset's derived preview image (DXF plans) as an image asset. */
  | { kind: 'preview' };

export interface Plan {
  profile: Profile;
  profile_version: number;
  source_fingerprint: string;
  step: Step;
  options: NormalizedTranscription;
}

export type Outcome =
  | {
      status: 'completed';
      result_asset_id: string;
      reused_subject_asset: boolean;
      backend?: DerivationBackend;
      /** A transcript the daemon made with default options (written back onto an observation). */
      transcript_asset_id?: string;
    }
  | { status: 'failed'; error: string };

const fingerprint = (parts: Record<string, unknown>) =>
  createHash('sha256').update(JSON.stringify(parts)).digest('hex');

const stem = (name: string) => name.replace(/\.[^./]*$/, '') || name;

export function planDerivation(
  k: Kernel,
  profile: Profile,
  s: ResolvedSubject,
  options: NormalizedTranscription,
): Plan {
  const a = s.asset;
  const source: Record<string, unknown> = { media_type: a.media_type, sha256: a.sha256 };
  const plan = (step: Step, extra: Record<string, unknown> = {}): Plan => ({
    profile,
    profile_version: PROFILE_VERSIONS[profile],
    source_fingerprint: fingerprint({ ...source, ...extra }),
    step,
    options,
  });
  const optioned = hasOptions(options);
  if (optioned && (profile !== 'canonical_text' || !isAudio(a.media_type)))
    throw E.invalid('transcription options apply only to canonical_text derivations of audio');

  if (profile === 'visual_preview') {
    if (a.preview_image_sha256) return plan({ kind: 'preview' }, { preview_sha256: a.preview_image_sha256 });
    if (isImage(a.media_type)) return plan({ kind: 'reuse', asset_id: a.asset_id });
    throw E.unsupported(
      `no visual preview for ${a.media_type}: previews exist for images and for documents the daemon renders (DXF)`,
    );
  }

  // canonical_text. An observation's own canonical text wins; its fingerprint ignores that text,
  // which the daemon itself may write back (decision #253).
  if (s.observation) {
    const backend = isAudio(a.media_type) ? planTranscription(k, options) : null;
    const extra = isAudio(a.media_type) ? { backend: backendKey(backend), options: optionsKey(options) } : {};
    if (s.canonicalTextAssetId && !optioned)
      return plan({ kind: 'reuse', asset_id: s.canonicalTextAssetId }, extra);
    return plan(audioOrOther(a, backend, options), extra);
  }
  if (TEXT_TYPES.has(a.media_type)) return plan({ kind: 'reuse', asset_id: a.asset_id });
  if (a.text_sha256 && !optioned) return plan({ kind: 'derived_text' }, { text_sha256: a.text_sha256 });
  if (isAudio(a.media_type)) {
    const backend = planTranscription(k, options);
    return plan(audioOrOther(a, backend, options), {
      backend: backendKey(backend),
      options: optionsKey(options),
    });
  }
  return plan(audioOrOther(a, null, options));
}

const backendKey = (b: TranscriptionPlan | null) => (b ? [b.route_id, b.provider, b.model] : 'none');
const optionsKey = (o: NormalizedTranscription) => (hasOptions(o) ? optionsDigest(o) : null);

function audioOrOther(
  a: AssetView,
  backend: TranscriptionPlan | null,
  options: NormalizedTranscription,
): Step {
  if (isAudio(a.media_type)) {
    if (backend) return { kind: 'transcribe', backend };
    if (hasOptions(options))
      throw E.noBackend(
        'transcription options need a transcription backend: no route has transcription = true',
      );
    return {
      kind: 'notice',
      text: `[audio ${a.file_name} (${a.asset_id}, ${a.media_type}): no transcript is available because the daemon has no transcription backend (a route with transcription = true)]`,
    };
  }
  if (isImage(a.media_type))
    return {
      kind: 'notice',
      text: `[image ${a.file_name} (${a.asset_id}, ${a.media_type}): no canonical text; the daemon does not run OCR on images, and no text was supplied with it]`,
    };
  throw E.unsupported(`no canonical text can be derived from ${a.media_type}`);
}

/** Runs the plan. Throws for what must not be persisted (retryable provider failures, shutdown). */
export async function execute(k: Kernel, s: ResolvedSubject, p: Plan, signal: AbortSignal): Promise<Outcome> {
  const assets = k.use<AssetsPort>('assets');
  const a = s.asset;
  const importText = async (text: string) =>
    (
      await assets.import(
        {
          file_name: `${stem(a.file_name)}.txt`,
          media_type: 'text/plain',
          bytes: new TextEncoder().encode(text),
        },
        signal,
      )
    ).asset_id;
  try {
    switch (p.step.kind) {
      case 'reuse':
        return { status: 'completed', result_asset_id: p.step.asset_id, reused_subject_asset: true };
      case 'notice':
        return {
          status: 'completed',
          result_asset_id: await importText(p.step.text),
          reused_subject_asset: false,
        };
      case 'derived_text': {
        const text = await assets.readText(a.asset_id);
        if (text === null)
          return { status: 'failed', error: `asset ${a.asset_id} no longer has derived text` };
        return { status: 'completed', result_asset_id: await importText(text), reused_subject_asset: false };
      }
      case 'preview': {
        const preview = await assets.readPreview(a.asset_id);
        if (!preview) return { status: 'failed', error: `asset ${a.asset_id} no longer has a preview image` };
        const ext = preview.media_type === 'image/jpeg' ? 'jpg' : 'png';
        const imported = await assets.import(
          {
            file_name: `${stem(a.file_name)}.preview.${ext}`,
            media_type: preview.media_type,
            bytes: preview.bytes,
          },
          signal,
        );
        // A preview identical to the stored image deduplicates to the subject itself.
        const reused = imported.asset_id === a.asset_id;
        return { status: 'completed', result_asset_id: imported.asset_id, reused_subject_asset: reused };
      }
      case 'transcribe':
        return await transcribeStep(k, s, p, p.step.backend, signal);
    }
  } catch (err) {
    if (err instanceof TranscriptionFailure) return { status: 'failed', error: err.message };
    // A derived artifact the asset store refuses is this derivation's failure, not the caller's.
    if (err instanceof DaemonError && err.status === 400 && err.domain === 'assets')
      return { status: 'failed', error: `the derived result was refused by the asset store: ${err.detail}` };
    throw err;
  }
}

async function transcribeStep(
  k: Kernel,
  s: ResolvedSubject,
  p: Plan,
  backend: TranscriptionPlan,
  signal: AbortSignal,
): Promise<Outcome> {
  const assets = k.use<AssetsPort>('assets');
  const a = s.asset;
  const bytes = await assets.readRaw(a.asset_id);
  const t = await transcribeAudio(k, backend, { bytes, media_type: a.media_type }, p.options, signal);
  const result = await assets.import(
    {
      file_name: `${stem(a.file_name)}.transcript.txt`,
      media_type: 'text/plain',
      bytes: new TextEncoder().encode(t.text),
    },
    signal,
  );
  const view: DerivationBackend = {
    kind: 'transcription',
    route_id: backend.route_id,
    provider: backend.provider,
    model: backend.model,
    pipeline_version: PIPELINE_VERSION,
    stitching_strategy: STITCHING_STRATEGY,
    part_count: 1,
  };
  if (p.options.timestamp_granularities !== undefined) {
    const timestamps = {
      pipeline_version: PIPELINE_VERSION,
      stitching_strategy: STITCHING_STRATEGY,
      part_count: 1,
      model: backend.model,
      language: t.language ?? null,
      duration_seconds: t.duration_seconds ?? null,
      segments: t.segments,
      words: t.words ?? [],
    };
    const ts = await assets.import(
      {
        file_name: `${stem(a.file_name)}.timestamps.json`,
        media_type: 'application/json',
        bytes: new TextEncoder().encode(JSON.stringify(timestamps)),
      },
      signal,
    );
    view.timestamp_asset_id = ts.asset_id;
  }
  return {
    status: 'completed',
    result_asset_id: result.asset_id,
    reused_subject_asset: false,
    backend: view,
    ...(hasOptions(p.options) ? {} : { transcript_asset_id: result.asset_id }),
  };
}
