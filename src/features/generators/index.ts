// Generator tools (api-core §10; docs/multimodal.md): generate_image, edit_image and generate_audio
// run on a route that offers the capability and keep what they make as run-referenced assets.
import type { AssetsPort } from '../assets/port.ts';
import type { FeatureModule } from '../feature.ts';
import { generatorTools } from './tools.ts';

export const generatorsFeature: FeatureModule<null> = {
  name: 'generators',
  create: (k) => {
    const assets = () => k.use<AssetsPort>('assets');
    for (const tool of generatorTools(k.engine, assets)) k.tools.register(tool);
    return null;
  },
};
