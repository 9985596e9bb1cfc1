// Multimodal input and rich output (api-core §3.6–3.7, concepts §4.6; docs/multimodal.md): files in
// a run's input become asset references (imported before the run is written, referenced with it,
// encoded per route at each model call), and the `emit_output` tool publishes outputs with files.
// The assets store is asked for lazily: it is another feature, reached through its port.
import type { AssetsPort } from '../assets/port.ts';
import type { FeatureModule } from '../feature.ts';
import { emitOutputTool } from './emit-output.ts';
import { InputAssets } from './input-assets.ts';

export const multimodalFeature: FeatureModule<InputAssets> = {
  name: 'multimodal',
  create: (k) => {
    const assets = () => k.use<AssetsPort>('assets');
    const input = new InputAssets(assets);
    k.engine.inputAssets = input;
    k.tools.register(emitOutputTool(k.engine, assets));
    return input;
  },
};
