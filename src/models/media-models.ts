// Image and speech models of a route, for the generator tools (generate_image, edit_image,
// generate_audio). Built from the same route settings and credentials as the route's chat driver;
// the provider package is imported only when a generator is first used.
import type { ImageModel, SpeechModel } from 'ai';
import type { RouteConfig } from '../config/routes-file.ts';
import { apiRoot, extraString, type ProviderCredentials, requireApiKey } from './drivers/route-options.ts';

export interface MediaModels {
  image(modelId: string): Promise<ImageModel>;
  speech(modelId: string): Promise<SpeechModel>;
}

/** Models used when the tool call names none (the route's default_model is a chat model). */
export const DEFAULT_MEDIA_MODELS: Record<string, { image: string; speech: string }> = {
  openai: { image: 'gpt-image-1', speech: 'gpt-4o-mini-tts' },
};

/** Drivers this daemon has media adapters for; a capable route on another driver is refused clearly. */
export const MEDIA_DRIVERS: ReadonlySet<string> = new Set(Object.keys(DEFAULT_MEDIA_MODELS));

export function createMediaModels(route: RouteConfig, creds: ProviderCredentials): MediaModels {
  if (route.driver !== 'openai')
    throw new Error(
      `route \`${route.route_id}\` (driver ${route.driver}) has no image or speech adapter in this daemon`,
    );
  const settings = {
    baseURL: apiRoot(route.base_url, '/v1'),
    apiKey: requireApiKey(route, creds),
    organization: creds.organization ?? extraString(route, 'organization'),
    project: creds.project ?? extraString(route, 'project'),
  };
  const provider = async () => (await import('@ai-sdk/openai')).createOpenAI(settings);
  return {
    image: async (id) => (await provider()).image(id),
    speech: async (id) => (await provider()).speech(id),
  };
}
