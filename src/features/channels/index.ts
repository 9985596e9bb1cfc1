// Channels (api-collab §1, docs/channels.md): public conversations between human actors and
// session members, with turn leases and the autonomy policy. The turn settler registers its
// run-terminal hook at creation (before run recovery) and reattaches leases after recovery.
import type { AssetsPort } from '../assets/port.ts';
import type { FeatureModule } from '../feature.ts';
import type { ChannelStimulusQueue, ChannelsPort } from './port.ts';
import { channelsPort } from './port-impl.ts';
import { registerChannelRoutes } from './routes.ts';
import { ChannelsService } from './service.ts';
import { TurnSettler } from './settle.ts';

export interface ChannelsFeature {
  service: ChannelsService;
  settler: TurnSettler;
  port: ChannelsPort;
  stimuli: { queue: ChannelStimulusQueue | null };
}

export const channelsFeature: FeatureModule<ChannelsPort & { feature: ChannelsFeature }> = {
  name: 'channels',
  create: (k) => {
    let assets: AssetsPort | null = null;
    const service = new ChannelsService(k.engine, () => {
      assets ??= k.use<AssetsPort>('assets');
      return assets;
    });
    const settler = new TurnSettler(service, k.engine);
    const stimuli = { queue: null as ChannelStimulusQueue | null };
    const port = channelsPort(service, stimuli);
    return Object.assign(port, { feature: { service, settler, port, stimuli } });
  },
  routes: (app, p, k) => registerChannelRoutes(app, p.feature.service, k.events),
  start: async (p) => {
    await p.feature.settler.recover();
    p.feature.settler.start();
  },
  stop: (p) => p.feature.settler.stop(),
};
