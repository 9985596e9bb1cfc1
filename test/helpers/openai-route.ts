// A routes file with the scripted route `local` (the default, playing script.json next to it) and
// an OpenAI route `gpt` pointed at a local fixture server: the tests that check what a real provider
// receives (system prompt parts, persona and skill sections) run their model calls on `gpt`.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

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
