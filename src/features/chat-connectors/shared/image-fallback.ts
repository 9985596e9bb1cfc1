// A chat message with an image, on a session whose route cannot read images, is refused by the
// runs rules (`routes/route_capability_missing`). A chat platform cannot choose another route, so
// the event is submitted once more without its images, which are then listed as skipped
// (decision 300): the person still gets an answer to the words they sent.
import { isDaemonError } from '../../../errors/daemon-error.ts';
import type { ConnectorsPort, IngressEvent, IngressResult } from '../../connectors/port.ts';

export const isImageType = (mediaType: string | null | undefined): boolean =>
  typeof mediaType === 'string' && mediaType.toLowerCase().startsWith('image/');

export async function ingestWithImageFallback(
  connectors: ConnectorsPort,
  event: IngressEvent,
  bucket: string | undefined,
  prepare: ((dropImages: boolean) => (ev: IngressEvent) => Promise<IngressEvent>) | null,
  signal?: AbortSignal,
): Promise<IngressResult> {
  const opts = (dropImages: boolean) => ({
    ...(bucket !== undefined ? { bucket } : {}),
    ...(signal ? { signal } : {}),
    ...(prepare ? { prepare: prepare(dropImages) } : {}),
  });
  try {
    return await connectors.ingest(event, opts(false));
  } catch (err) {
    if (!prepare || !isDaemonError(err) || err.code !== 'route_capability_missing') throw err;
    return connectors.ingest(event, opts(true));
  }
}
