// Additional contexts that `user_prompt_submit` hooks returned are stored with the run's request
// (src/engine/user-prompt-hooks.ts); every model call of that run gets them as a system message.
import type { Engine } from '../../engine/engine.ts';
import type { StoredRunRequest } from '../../engine/types.ts';

export function wrapPromptContexts(engine: Engine): void {
  const base = engine.systemPromptFor;
  engine.systemPromptFor = async (run) => {
    const parts = await base(run);
    // Cheap test first: most runs have no hook contexts and their request need not be parsed.
    if (!run.request.includes('"hook_contexts"')) return parts;
    const contexts = (JSON.parse(run.request) as StoredRunRequest).hook_contexts;
    return contexts?.length ? [...parts, ...contexts.map((c) => `Context from a hook: ${c}`)] : parts;
  };
}
