// xAI (Grok) through its OpenAI-style Responses API (`POST {base}/responses`).
import type { RouteConfig } from '../../config/routes-file.ts';
import type { ModelDriver } from '../driver.ts';
import { createAiSdkDriver, lazy } from './ai-sdk.ts';
import { apiRoot, type ProviderCredentials, requireApiKey } from './route-options.ts';
import { wireFetch } from './wire-capture.ts';

export function createXaiDriver(route: RouteConfig, creds: ProviderCredentials): ModelDriver {
  const settings = {
    baseURL: apiRoot(route.base_url, '/v1'),
    apiKey: requireApiKey(route, creds),
    fetch: wireFetch,
  };
  const provider = lazy(async () => (await import('@ai-sdk/xai')).createXai(settings));
  return createAiSdkDriver({
    name: 'xai',
    languageModel: async (id) => (await provider()).responses(id),
    providerOptions: (gen) =>
      gen.allow_parallel_tool_calls === undefined
        ? undefined
        : { xai: { parallelToolCalls: gen.allow_parallel_tool_calls } },
    systemAnywhere: true,
  });
}
