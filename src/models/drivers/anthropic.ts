// Anthropic Messages API (`POST {base}/messages`, SSE).
import type { RouteConfig } from '../../config/routes-file.ts';
import { ModelCallError, type ModelDriver, type ModelRequest } from '../driver.ts';
import { createAiSdkDriver, lazy } from './ai-sdk.ts';
import { apiRoot, extraString, type ProviderCredentials, requireApiKey } from './route-options.ts';
import { wireFetch } from './wire-capture.ts';

/** RouteConfig.extra keys this driver reads. */
export const ANTHROPIC_EXTRA_KEYS = ['anthropic_version', 'anthropic_beta_headers'] as const;

/** `anthropic_beta_headers` may be a TOML list or one comma-separated string. */
function betaHeader(value: unknown): string | undefined {
  const list = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : [];
  const names = list.filter((v): v is string => typeof v === 'string').map((v) => v.trim());
  return names.filter(Boolean).join(',') || undefined;
}

/**
 * Anthropic refuses extended thinking together with a forced tool choice; failing here gives a
 * clear, non-retryable error instead of a 400 after a network round trip.
 */
function rejectThinkingWithForcedTool(req: ModelRequest): void {
  const g = req.generation;
  const thinking = g?.reasoning_effort !== undefined && g.reasoning_effort !== 'none';
  const forced = g?.tool_choice === 'required' || typeof g?.tool_choice === 'object';
  if (thinking && forced && req.tools.length > 0)
    throw new ModelCallError(
      'anthropic: extended thinking (reasoning_effort) cannot be combined with a forced tool_choice',
      { status: null, retryable: false },
    );
}

export function createAnthropicDriver(route: RouteConfig, creds: ProviderCredentials): ModelDriver {
  const headers: Record<string, string> = {};
  const version = extraString(route, 'anthropic_version');
  if (version) headers['anthropic-version'] = version;
  const beta = betaHeader(route.extra.anthropic_beta_headers);
  if (beta) headers['anthropic-beta'] = beta;
  const settings = {
    baseURL: apiRoot(route.base_url, '/v1'),
    apiKey: requireApiKey(route, creds),
    headers,
    fetch: wireFetch,
  };
  const provider = lazy(async () => (await import('@ai-sdk/anthropic')).createAnthropic(settings));
  return createAiSdkDriver({
    name: 'anthropic',
    languageModel: async (id) => (await provider()).messages(id),
    providerOptions: (gen) =>
      gen.allow_parallel_tool_calls === false ? { anthropic: { disableParallelToolUse: true } } : undefined,
    validate: rejectThinkingWithForcedTool,
  });
}
