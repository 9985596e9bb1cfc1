// Personas (api-core §9, docs/personas.md): mutable records, immutable session snapshots. The
// prompt decorator adds the bound persona's section after the runtime's own system prompt parts
// and before the skills' (this feature is listed between them in src/features/index.ts).
import type { FeatureModule } from '../feature.ts';
import type { SystemPromptSettings } from '../runtime/core-settings.ts';
import type { RuntimeService } from '../runtime/service.ts';
import { registerPersonaRoutes } from './routes.ts';
import { PersonasService } from './service.ts';

export const personasFeature: FeatureModule<PersonasService> = {
  name: 'personas',
  create: (k) => {
    const runtime = k.use<RuntimeService>('runtime');
    const personas = new PersonasService(
      k.engine,
      () => !!runtime.settings.value<SystemPromptSettings>('system_prompt')?.override_prompt,
    );
    const base = k.engine.systemPromptFor;
    k.engine.systemPromptFor = async (run) => [
      ...(await base(run)),
      ...(await personas.promptParts(run.session_id)),
    ];
    return personas;
  },
  routes: (app, personas) => registerPersonaRoutes(app, personas),
};
