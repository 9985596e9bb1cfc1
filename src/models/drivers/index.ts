// Entry point for provider drivers: one factory from a route to a ModelDriver.
import type { RouteConfig } from '../../config/routes-file.ts';
import type { ModelDriver } from '../driver.ts';
import { createAnthropicDriver } from './anthropic.ts';
import { createGoogleDriver } from './google.ts';
import { createOpenAiDriver } from './openai.ts';
import { createOpenAiCompatibleDriver } from './openai-compatible.ts';
import { createOpenRouterDriver } from './openrouter.ts';
import { ProviderConfigError, type ProviderCredentials } from './route-options.ts';
import { createXaiDriver } from './xai.ts';

export { ANTHROPIC_EXTRA_KEYS } from './anthropic.ts';
export { type ResolvedCredentials, resolveCredentials, type SecretValue } from './credentials.ts';
export { OPENAI_API_EXTRA_KEY, OPENAI_APIS, type OpenAiApi, openAiApiOf } from './openai.ts';
export { apiRoot, ProviderConfigError, type ProviderCredentials } from './route-options.ts';

const FACTORIES: Record<string, (route: RouteConfig, creds: ProviderCredentials) => ModelDriver> = {
  anthropic: createAnthropicDriver,
  openai: createOpenAiDriver,
  google: createGoogleDriver,
  xai: createXaiDriver,
  openrouter: createOpenRouterDriver,
  openai_compatible: createOpenAiCompatibleDriver,
};

/** Drivers served by this module (everything but `scripted`). */
export const PROVIDER_DRIVERS = Object.keys(FACTORIES);

/**
 * Builds the driver of a provider route. Throws ProviderConfigError when the route cannot work
 * at all (no API key where one is required, no base_url for openai_compatible, bad openai_api);
 * call resolveCredentials first to report a missing key as route readiness instead.
 */
export function createProviderDriver(route: RouteConfig, credentials: ProviderCredentials): ModelDriver {
  const factory = FACTORIES[route.driver];
  if (!factory) throw new ProviderConfigError(route, `driver \`${route.driver}\` is not a provider driver`);
  return factory(route, credentials);
}
