// What each driver can do by default (capability matrix version 2, ops-runtime §4.3); a routes file
// may override a flag per route. The engine reads it to encode multimodal input and the generator
// tools to pick a route, so it sits with the models rather than in the runtime feature.
import type { CapabilityFlag, RouteConfig } from '../config/routes-file.ts';

export const DRIVER_CAPABILITIES: Record<string, Record<string, boolean>> = {
  scripted: {
    multimodal_input: false,
    native_web_search: false,
    image_generation: false,
    image_edit: false,
    audio_generation: false,
    transcription: false,
  },
  anthropic: {
    multimodal_input: true,
    native_web_search: true,
    image_generation: false,
    image_edit: false,
    audio_generation: false,
    transcription: false,
  },
  google: {
    multimodal_input: true,
    native_web_search: false,
    image_generation: true,
    image_edit: true,
    audio_generation: false,
    transcription: false,
  },
  openai: {
    multimodal_input: true,
    native_web_search: true,
    image_generation: true,
    image_edit: true,
    audio_generation: true,
    transcription: true,
  },
  openrouter: {
    multimodal_input: true,
    native_web_search: false,
    image_generation: false,
    image_edit: false,
    audio_generation: false,
    transcription: false,
  },
  xai: {
    multimodal_input: true,
    native_web_search: true,
    image_generation: true,
    image_edit: true,
    audio_generation: false,
    transcription: false,
  },
  openai_compatible: {
    multimodal_input: false,
    native_web_search: false,
    image_generation: false,
    image_edit: false,
    audio_generation: false,
    transcription: false,
  },
};

/** A route's flag: the routes file's override, else the driver's default. */
export function routeHas(route: RouteConfig, flag: CapabilityFlag): boolean {
  return route.capabilities[flag] ?? DRIVER_CAPABILITIES[route.driver]?.[flag] ?? false;
}

/**
 * How a route takes each kind of asset at execution time. Images need `multimodal_input`; PDFs go
 * as file parts only where the provider reads documents natively (else their derived text); audio
 * as a file part only where the wire API takes audio input (Gemini; OpenAI Chat Completions for
 * WAV and MP3), else its transcript or a notice.
 */
export interface AssetEncoding {
  images: boolean;
  pdf_files: boolean;
  audio_file(mediaType: string): boolean;
}

const PDF_DRIVERS = new Set(['anthropic', 'openai', 'google']);

export function assetEncoding(route: RouteConfig): AssetEncoding {
  const images = routeHas(route, 'multimodal_input');
  const chat = route.driver === 'openai' && route.extra.openai_api === 'chat';
  return {
    images,
    pdf_files: images && PDF_DRIVERS.has(route.driver),
    audio_file: (mediaType) =>
      images &&
      (route.driver === 'google' || (chat && (mediaType === 'audio/wav' || mediaType === 'audio/mpeg'))),
  };
}
