// The one adapter between our ModelDriver contract and the AI SDK. Every provider driver is this
// adapter plus a language-model factory and a few provider options. The SDK itself (`ai` and the
// `@ai-sdk/*` provider packages, about a third of the daemon's code) is imported on a route's first
// model call, not at boot: building a driver only validates the route, which is all route
// readiness needs, and a daemon or CLI that never calls a provider never pays for the SDK.
import type { LanguageModel, streamText } from 'ai';
import type { GenerationOptions, ModelDriver, ModelRequest } from '../driver.ts';

type StreamOptions = Parameters<typeof streamText>[0];
export type ProviderOptions = NonNullable<StreamOptions['providerOptions']>;

export interface AiSdkDriverConfig {
  /** Driver name, also the prefix of error messages (`anthropic: ...`). */
  name: string;
  /** Usually async: the provider package is imported on first use (see `lazy`). */
  languageModel: (modelId: string) => LanguageModel | Promise<LanguageModel>;
  /** Provider-specific knobs for the generation overrides the SDK has no common option for. */
  providerOptions?: (gen: GenerationOptions) => ProviderOptions | undefined;
  /** See PromptOptions.systemAnywhere. */
  systemAnywhere?: boolean;
  /** False when the provider ignores the SDK's `reasoning` option and takes it via providerOptions. */
  nativeReasoning?: boolean;
  /** Rejects, before any request, combinations the provider is known to refuse. */
  validate?: (req: ModelRequest) => void;
}

/** One import for the whole process, started by the first call of any provider route. */
const loadCallModel = lazy(async () => (await import('./ai-sdk-call.ts')).callModel);

export function createAiSdkDriver(config: AiSdkDriverConfig): ModelDriver {
  return { name: config.name, call: async (req) => (await loadCallModel())(config, req) };
}

/**
 * Memoizes an async load: a driver's provider instance, built on first use from its dynamically
 * imported SDK package (its settings are computed and validated up front, so a broken route is
 * still reported at boot). A failed load is retried on the next call rather than remembered.
 */
export function lazy<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | null = null;
  return () => {
    pending ??= load().catch((err) => {
      pending = null;
      throw err;
    });
    return pending;
  };
}
