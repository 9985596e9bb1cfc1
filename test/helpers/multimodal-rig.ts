// One daemon with a route per way of taking files, each pointed at a local wire server: `local`
// (scripted, the default), `gpt` (OpenAI Responses, vision, no generators), `gptchat` (the same
// server over Chat Completions, which takes audio input), `gptfb` (OpenAI falling back to
// `compat` at the first failure), `compatsmall` (`compat` with a tiny context window, so it
// compacts), `claude` (Anthropic),
// `compat` (openai_compatible, text only) and `media` (OpenAI images and speech, the generator
// route). Used by the multimodal conformance, generator and docs tests.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tinyPng, tinyWav } from '../fixtures/media/tiny-media.ts';
import { startAnthropicServer } from '../fixtures/providers/anthropic-server.ts';
import type { FixtureServer } from '../fixtures/providers/harness.ts';
import { startOpenAiCompatibleServer } from '../fixtures/providers/openai-compatible-server.ts';
import { type MediaServer, startOpenAiMediaServer } from '../fixtures/providers/openai-media-server.ts';
import { startOpenAiServer } from '../fixtures/providers/openai-server.ts';
import { startDaemon, type TestDaemon, tempDir } from './daemon.ts';

export interface MediaRig {
  d: TestDaemon;
  openai: FixtureServer;
  anthropic: FixtureServer;
  compat: FixtureServer;
  media: MediaServer;
  close(): Promise<void>;
}

export function mediaRoutes(
  o: { openai: string; anthropic: string; compat: string; media: string },
  script: string,
): string {
  return `version = 1
default_route = "local"

[routes.local]
driver = "scripted"
default_model = "scripted"
script_file = ${JSON.stringify(script)}

[routes.gpt]
driver = "openai"
default_model = "gpt-4.1-mini"
api_key_env = "TEST_OPENAI_KEY"
base_url = "${o.openai}"
image_generation = false
image_edit = false
audio_generation = false

[routes.gptchat]
driver = "openai"
default_model = "gpt-4o-audio-preview"
api_key_env = "TEST_OPENAI_KEY"
base_url = "${o.openai}"
openai_api = "chat"
image_generation = false
image_edit = false
audio_generation = false

[routes.gptfb]
driver = "openai"
default_model = "gpt-4.1-mini"
api_key_env = "TEST_OPENAI_KEY"
base_url = "${o.openai}"
max_retries = 0
fallback_routes = ["compat"]
image_generation = false
image_edit = false
audio_generation = false

[routes.claude]
driver = "anthropic"
default_model = "claude-sonnet-4-6"
api_key_env = "TEST_ANTHROPIC_KEY"
base_url = "${o.anthropic}"

[routes.compat]
driver = "openai_compatible"
default_model = "qwen3:8b"
base_url = "${o.compat}/v1"

[routes.compatsmall]
driver = "openai_compatible"
default_model = "qwen3:8b"
base_url = "${o.compat}/v1"
context_window_tokens = 120

[routes.media]
driver = "openai"
default_model = "gpt-4.1-mini"
api_key_env = "TEST_OPENAI_KEY"
base_url = "${o.media}"
`;
}

export async function startMediaRig(
  script: unknown = { default: { turns: [{ text: 'ok' }] } },
): Promise<MediaRig> {
  const openai = await startOpenAiServer();
  const anthropic = await startAnthropicServer();
  const compat = await startOpenAiCompatibleServer();
  const media = await startOpenAiMediaServer({
    images: [tinyPng(8, 8, [20, 120, 220])],
    speech: { bytes: tinyWav(120), contentType: 'audio/wav' },
  });
  const dir = tempDir('kheish-mm-routes-');
  const scriptFile = join(dir, 'script.json');
  writeFileSync(scriptFile, JSON.stringify(script));
  const d = await startDaemon({
    routesToml: mediaRoutes(
      { openai: openai.origin, anthropic: anthropic.origin, compat: compat.origin, media: media.origin },
      scriptFile,
    ),
    env: { TEST_OPENAI_KEY: 'sk-test-openai', TEST_ANTHROPIC_KEY: 'sk-ant-test' },
  });
  const rig: MediaRig = {
    d,
    openai,
    anthropic,
    compat,
    media,
    // The daemon of the latest generation (a crash test replaces rig.d after a restart).
    close: async () => {
      await rig.d.stop();
      await rig.d.cleanup();
      await Promise.all([openai.close(), anthropic.close(), compat.close(), media.close()]);
    },
  };
  return rig;
}

/** The content blocks of the last user message Anthropic received. */
export function anthropicLastUser(server: FixtureServer): any[] {
  const messages = server.requests.at(-1)!.body.messages as any[];
  const user = messages.findLast((m) => m.role === 'user');
  return typeof user.content === 'string' ? [{ type: 'text', text: user.content }] : user.content;
}
