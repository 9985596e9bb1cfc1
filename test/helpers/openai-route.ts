// A routes file with the scripted route `local` (the default, playing script.json next to it) and
// an OpenAI route `gpt` pointed at a local fixture server: the tests that check what a real provider
// receives (system prompt parts, persona and skill sections) run their model calls on `gpt`.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FixtureServer } from '../fixtures/providers/harness.ts';
import { startOpenAiServer } from '../fixtures/providers/openai-server.ts';
import { startDaemon, type TestDaemon, tempDir } from './daemon.ts';

export const OPENAI_KEY_ENV = 'TEST_OPENAI_KEY';

/** Writes `<dir>/routes.toml` and returns its path. */
export function writeScriptedAndOpenAiRoutes(dir: string, origin: string): string {
  const file = join(dir, 'routes.toml');
  writeFileSync(
    file,
    `version = 1
default_route = "local"

[routes.local]
driver = "scripted"
default_model = "scripted"
script_file = "script.json"

[routes.gpt]
driver = "openai"
default_model = "gpt-5.4"
api_key_env = "${OPENAI_KEY_ENV}"
base_url = "${origin}"
`,
  );
  return file;
}

export interface OpenAiRouteDaemon {
  daemon: TestDaemon;
  /** The local OpenAI wire server behind the `gpt` route (enqueue replies, read requests). */
  openai: FixtureServer;
  /** Stops the daemon (and drops its state), then the wire server. */
  stop(): Promise<void>;
}

/**
 * A local OpenAI wire server and a daemon on the routes file above, in a fresh temp dir whose
 * script.json answers every scripted turn `ok`; HOME is a fresh temp dir too.
 */
export async function startOpenAiRouteDaemon(prefix: string): Promise<OpenAiRouteDaemon> {
  const dir = tempDir(prefix);
  writeFileSync(join(dir, 'script.json'), JSON.stringify({ default: { turns: [{ text: 'ok' }] } }));
  const openai = await startOpenAiServer();
  let daemon: TestDaemon;
  try {
    daemon = await startDaemon({
      args: ['--routes-file', writeScriptedAndOpenAiRoutes(dir, openai.origin)],
      env: { [OPENAI_KEY_ENV]: 'sk-test-openai-route', HOME: tempDir(`${prefix}home-`) },
    });
  } catch (err) {
    await openai.close();
    throw err;
  }
  return {
    daemon,
    openai,
    stop: async () => {
      await daemon.kill();
      await daemon.cleanup();
      await openai.close();
    },
  };
}
