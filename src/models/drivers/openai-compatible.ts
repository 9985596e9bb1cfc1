// Any server speaking OpenAI Chat Completions (`POST {base}/chat/completions`): Ollama, vLLM,
// llama.cpp server, LM Studio... `base_url` is required; the API key is optional.
import type { RouteConfig } from '../../config/routes-file.ts';
import type { ModelDriver } from '../driver.ts';
import { createAiSdkDriver, lazy } from './ai-sdk.ts';
import { apiRoot, ProviderConfigError, type ProviderCredentials } from './route-options.ts';
import { wireFetch } from './wire-capture.ts';

const NAME = 'openai_compatible';

export function createOpenAiCompatibleDriver(route: RouteConfig, creds: ProviderCredentials): ModelDriver {
  const baseURL = apiRoot(route.base_url, '/v1');
  if (!baseURL) throw new ProviderConfigError(route, 'base_url is required (e.g. http://127.0.0.1:11434/v1)');
  const settings = {
    name: NAME,
    baseURL,
    apiKey: creds.apiKey,
    // Without it most servers send no usage at all on streams.
    includeUsage: true,
    fetch: wireFetch,
  };
  const provider = lazy(async () =>
    (await import('@ai-sdk/openai-compatible')).createOpenAICompatible(settings),
  );
  return createAiSdkDriver({
    name: NAME,
    languageModel: async (id) => (await provider()).chatModel(id),
    // The provider copies `providerOptions[name]` into the body as raw Chat Completions fields.
    providerOptions: (gen) =>
      gen.allow_parallel_tool_calls === undefined
        ? undefined
        : { [NAME]: { parallel_tool_calls: gen.allow_parallel_tool_calls } },
    systemAnywhere: true,
  });
}
