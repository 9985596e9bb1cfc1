// Google Gemini API (`POST {base}/models/{model}:streamGenerateContent?alt=sse`).
import type { RouteConfig } from '../../config/routes-file.ts';
import type { ModelDriver } from '../driver.ts';
import { createAiSdkDriver, lazy } from './ai-sdk.ts';
import { apiRoot, type ProviderCredentials, requireApiKey } from './route-options.ts';
import { wireFetch } from './wire-capture.ts';

export function createGoogleDriver(route: RouteConfig, creds: ProviderCredentials): ModelDriver {
  const settings = {
    baseURL: apiRoot(route.base_url, '/v1beta'),
    apiKey: requireApiKey(route, creds),
    fetch: wireFetch,
  };
  const provider = lazy(async () => (await import('@ai-sdk/google')).createGoogle(settings));
  // Gemini has no switch for parallel function calls; allow_parallel_tool_calls is ignored.
  return createAiSdkDriver({ name: 'google', languageModel: async (id) => (await provider())(id) });
}
