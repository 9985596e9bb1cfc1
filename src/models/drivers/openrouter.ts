// OpenRouter (`POST {base}/chat/completions`, OpenAI chat wire format plus OpenRouter fields).
import type { RouteConfig } from '../../config/routes-file.ts';
import type { GenerationOptions, ModelDriver } from '../driver.ts';
import { createAiSdkDriver, lazy, type ProviderOptions } from './ai-sdk.ts';
import { apiRoot, type ProviderCredentials, requireApiKey } from './route-options.ts';
import { wireFetch } from './wire-capture.ts';

/**
 * The OpenRouter provider ignores the SDK's common `reasoning` option and copies
 * `providerOptions.openrouter` into the request body verbatim, so both knobs travel as raw
 * OpenRouter body fields.
 */
function openRouterOptions(gen: GenerationOptions): ProviderOptions | undefined {
  const body: Record<string, unknown> = {};
  if (gen.allow_parallel_tool_calls !== undefined) body.parallel_tool_calls = gen.allow_parallel_tool_calls;
  if (gen.reasoning_effort !== undefined) body.reasoning = { effort: gen.reasoning_effort };
  return Object.keys(body).length > 0 ? { openrouter: body as ProviderOptions[string] } : undefined;
}

export function createOpenRouterDriver(route: RouteConfig, creds: ProviderCredentials): ModelDriver {
  const settings = {
    baseURL: apiRoot(route.base_url, '/api/v1'),
    apiKey: requireApiKey(route, creds),
    // "strict" asks for `stream_options.include_usage`, which cost accounting depends on.
    compatibility: 'strict' as const,
    fetch: wireFetch,
  };
  const provider = lazy(async () => (await import('@openrouter/ai-sdk-provider')).createOpenRouter(settings));
  return createAiSdkDriver({
    name: 'openrouter',
    languageModel: async (id) => (await provider()).chat(id, { usage: { include: true } }),
    providerOptions: openRouterOptions,
    systemAnywhere: true,
    nativeReasoning: false,
  });
}
