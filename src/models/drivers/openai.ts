// OpenAI: the Responses API by default (`POST {base}/responses`), Chat Completions
// (`POST {base}/chat/completions`) when the route sets `openai_api = "chat"`.
import type { RouteConfig } from '../../config/routes-file.ts';
import type { ModelDriver } from '../driver.ts';
import { createAiSdkDriver, lazy } from './ai-sdk.ts';
import {
  apiRoot,
  extraString,
  ProviderConfigError,
  type ProviderCredentials,
  requireApiKey,
} from './route-options.ts';
import { wireFetch } from './wire-capture.ts';

/** RouteConfig.extra key choosing the wire API; the routes-file validator must accept it. */
export const OPENAI_API_EXTRA_KEY = 'openai_api';
export const OPENAI_APIS = ['responses', 'chat'] as const;
export type OpenAiApi = (typeof OPENAI_APIS)[number];

/** RouteConfig.extra keys this driver reads (organization/project arrive via credentials). */
export const OPENAI_EXTRA_KEYS = [OPENAI_API_EXTRA_KEY] as const;

export function openAiApiOf(route: RouteConfig): OpenAiApi {
  const raw = route.extra[OPENAI_API_EXTRA_KEY];
  if (raw === undefined) return 'responses';
  if (typeof raw === 'string' && (OPENAI_APIS as readonly string[]).includes(raw)) return raw as OpenAiApi;
  throw new ProviderConfigError(route, `${OPENAI_API_EXTRA_KEY} must be "responses" or "chat"`);
}

export function createOpenAiDriver(route: RouteConfig, creds: ProviderCredentials): ModelDriver {
  const api = openAiApiOf(route);
  const settings = {
    baseURL: apiRoot(route.base_url, '/v1'),
    apiKey: requireApiKey(route, creds),
    organization: creds.organization ?? extraString(route, 'organization'),
    project: creds.project ?? extraString(route, 'project'),
    fetch: wireFetch,
  };
  const provider = lazy(async () => (await import('@ai-sdk/openai')).createOpenAI(settings));
  return createAiSdkDriver({
    name: 'openai',
    languageModel: async (id) => {
      const p = await provider();
      return api === 'chat' ? p.chat(id) : p.responses(id);
    },
    providerOptions: (gen) =>
      gen.allow_parallel_tool_calls === undefined
        ? undefined
        : { openai: { parallelToolCalls: gen.allow_parallel_tool_calls } },
    systemAnywhere: true,
  });
}
