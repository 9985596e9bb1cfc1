// What each driver can do by default (capability matrix version 2, ops-runtime §4.3); a routes file
// may override a flag per route.

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
