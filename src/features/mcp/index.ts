// MCP servers as daemon-global tool providers (ops-runtime §8). Built before run recovery: the
// tools a recovered run may call must be in the registry when it resumes.
import type { FeatureModule } from '../feature.ts';
import type { RuntimeService } from '../runtime/service.ts';
import type { SecretsService } from '../secrets/service.ts';
import { McpHotAdd } from './hot-add.ts';
import { registerMcpRoutes } from './routes.ts';
import { McpService } from './service.ts';

export const mcpFeature: FeatureModule<McpService> = {
  name: 'mcp',
  create: (k) => {
    const mcp = new McpService(k);
    const runtime = k.use<RuntimeService>('runtime');
    runtime.addRuntimeSection('mcp', () => mcp.snapshot());
    mcp.hot = new McpHotAdd(k, mcp, runtime);
    // Hidden by the session's capability scope = neither offered to the model nor callable.
    const baseSurface = k.engine.toolSurfaceFor;
    k.engine.toolSurfaceFor = async (run) => mcp.filterSurface(run.session_id, await baseSurface(run));
    const basePrompt = k.engine.systemPromptFor;
    k.engine.systemPromptFor = async (run) => [
      ...(await basePrompt(run)),
      ...(await mcp.promptParts(run.session_id)),
    ];
    // A slot a loaded server reads cannot be deleted under it (ops-runtime #25).
    k.use<SecretsService>('secrets').addReferenceCheck((slot) => mcp.referencesTo(slot));
    const baseSecrets = k.engine.secretValues;
    k.engine.secretValues = () => [...baseSecrets(), ...mcp.secretValues()];
    return mcp;
  },
  routes: (app, mcp, k) => registerMcpRoutes(app, mcp, () => k.use<RuntimeService>('runtime').runtime()),
  prepare: async (mcp) => {
    await mcp.boot();
    // Servers added at runtime (restored revision) connect after the configured ones.
    await mcp.hot?.afterBoot();
  },
  shutdown: (mcp) => mcp.close(),
};
