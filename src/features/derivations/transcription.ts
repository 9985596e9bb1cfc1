// Speech-to-text for audio `canonical_text` derivations (concepts §4.14): the backend is a route
// whose capabilities include `transcription` (decision #254), called through the AI SDK's
// transcription model on the OpenAI wire format (`POST {base}/audio/transcriptions`, multipart).
// The SDK and the provider package are imported only when a transcription really runs.
import { createHash } from 'node:crypto';
import type { RouteConfig } from '../../config/routes-file.ts';
import { resolveCredentials } from '../../models/drivers/index.ts';
import { apiRoot } from '../../models/drivers/route-options.ts';
import type { Kernel } from '../feature.ts';
import type { RuntimeService } from '../runtime/service.ts';
import { derivationErrors as E } from './errors.ts';

/** Provenance of the current pipeline: one request per audio file, no chunking (api docs). */
export const PIPELINE_VERSION = 1;
export const STITCHING_STRATEGY = 'single_part';

/** Drivers whose servers speak OpenAI's `/audio/transcriptions`. */
const WIRE_ROOTS: Record<string, { root: string; defaultBase?: string; model: string }> = {
  openai: { root: '/v1', model: 'gpt-4o-transcribe' },
  openrouter: {
    root: '/api/v1',
    defaultBase: 'https://openrouter.ai/api/v1',
    model: 'openai/gpt-4o-mini-transcribe',
  },
  openai_compatible: { root: '/v1', model: 'whisper-1' },
};

/** The only OpenAI model that returns word/segment timestamps (verbose_json). */
const TIMESTAMP_MODEL = 'whisper-1';

export interface NormalizedTranscription {
  prompt?: string;
  language?: string;
  timestamp_granularities?: Array<'word' | 'segment'>;
}

export interface TranscriptionPlan {
  route_id: string;
  provider: string;
  model: string;
  route: RouteConfig;
}

/** True when the caller gave any option (such derivations never replace the default pointer). */
export const hasOptions = (o: NormalizedTranscription): boolean =>
  o.prompt !== undefined || o.language !== undefined || o.timestamp_granularities !== undefined;

/** A non-secret digest of the normalized options (part of the source fingerprint). */
export function optionsDigest(o: NormalizedTranscription): string {
  return createHash('sha256')
    .update(JSON.stringify([o.prompt ?? null, o.language ?? null, o.timestamp_granularities ?? null]))
    .digest('hex');
}

const isTranscriptionModel = (m: string) => /transcribe|whisper/i.test(m);

/**
 * The backend a transcription would use now: the default route when it can transcribe, else the
 * first capable route of the routes file; null when none can. A route can transcribe when its
 * effective `transcription` capability is on, it speaks the OpenAI transcription wire format and
 * it is not in the `error` readiness state.
 */
export function planTranscription(k: Kernel, options: NormalizedTranscription): TranscriptionPlan | null {
  const runtime = k.use<RuntimeService>('runtime');
  const capable = runtime
    .routes()
    .filter((r) => r.transcription === true && WIRE_ROOTS[String(r.driver)] !== undefined)
    .map((r) => k.engine.routes.refresh(r.route_id))
    .filter((s) => s !== undefined && s.readiness !== 'error');
  const chosen = capable.find((s) => s!.config.route_id === k.engine.routes.defaultRoute) ?? capable[0];
  if (!chosen) return null;
  const route = chosen.config;
  const wire = WIRE_ROOTS[route.driver]!;
  let model = isTranscriptionModel(route.default_model) ? route.default_model : wire.model;
  if (options.timestamp_granularities !== undefined) {
    if (route.driver !== 'openai')
      throw E.unsupported(
        `timestamp_granularities need the OpenAI ${TIMESTAMP_MODEL} backend; the transcription route ${route.route_id} is ${route.driver}`,
      );
    model = TIMESTAMP_MODEL;
  }
  return { route_id: route.route_id, provider: route.driver, model, route };
}

export interface Transcript {
  text: string;
  language?: string;
  duration_seconds?: number;
  segments: Array<{ text: string; start_second: number; end_second: number }>;
  words?: Array<{ text: string; start_second: number; end_second: number }>;
}

/** A provider failure that must not be cached: the caller may retry the same request. */
export class RetryableTranscriptionError extends Error {
  readonly status: number | null;
  constructor(status: number | null, message: string) {
    super(message);
    this.status = status;
  }
}

/** A failure a retry would repeat: recorded as a `failed` derivation. */
export class TranscriptionFailure extends Error {}

const DEFAULT_TIMEOUT_MS = 120_000;

export async function transcribeAudio(
  k: Kernel,
  plan: TranscriptionPlan,
  audio: { bytes: Uint8Array; media_type: string },
  options: NormalizedTranscription,
  signal: AbortSignal,
): Promise<Transcript> {
  const route = plan.route;
  const wire = WIRE_ROOTS[route.driver]!;
  const creds = resolveCredentials(route, process.env, k.slots.lookup);
  if (creds.missing) throw new RetryableTranscriptionError(null, `route ${route.route_id}: ${creds.missing}`);
  const [{ transcribe, APICallError }, { createOpenAI }] = await Promise.all([
    import('ai'),
    import('@ai-sdk/openai'),
  ]);
  const provider = createOpenAI({
    baseURL: apiRoot(route.base_url, wire.root) ?? wire.defaultBase,
    // OpenAI-compatible servers may run without a key; the SDK still wants a value.
    apiKey: creds.apiKey ?? 'none',
    organization: creds.organization,
    project: creds.project,
  });
  const timeout = AbortSignal.timeout(route.timeout_ms ?? DEFAULT_TIMEOUT_MS);
  const openai: Record<string, string | string[]> = {};
  if (options.prompt !== undefined) openai.prompt = options.prompt;
  if (options.language !== undefined) openai.language = options.language;
  if (options.timestamp_granularities !== undefined) {
    openai.timestampGranularities = options.timestamp_granularities;
    openai.responseFormat = 'verbose_json';
  }
  try {
    const result = await transcribe({
      model: provider.transcription(plan.model),
      audio: audio.bytes,
      providerOptions: { openai },
      // One request per derivation: a retryable failure goes back to the caller uncached.
      maxRetries: 0,
      abortSignal: AbortSignal.any([signal, timeout]),
    });
    const seconds = (s: { text: string; startSecond: number; endSecond: number }) => ({
      text: s.text,
      start_second: s.startSecond,
      end_second: s.endSecond,
    });
    return {
      text: result.text,
      ...(result.language ? { language: result.language } : {}),
      ...(result.durationInSeconds !== undefined ? { duration_seconds: result.durationInSeconds } : {}),
      segments: result.segments.map(seconds),
      ...(result.words ? { words: result.words.map(seconds) } : {}),
    };
  } catch (err) {
    if (signal.aborted) throw signal.reason ?? err;
    if (timeout.aborted)
      throw new RetryableTranscriptionError(null, `transcription timed out on route ${route.route_id}`);
    if (APICallError.isInstance(err)) {
      const status = err.statusCode ?? null;
      const message = `transcription route ${route.route_id} answered ${status ?? 'no status'}: ${err.message}`;
      if (err.isRetryable || status === null || status === 429 || status >= 500)
        throw new RetryableTranscriptionError(status, message);
      throw new TranscriptionFailure(message);
    }
    throw new TranscriptionFailure(
      `transcription failed on route ${route.route_id}: ${(err as Error).message}`,
    );
  }
}
