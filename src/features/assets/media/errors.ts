// The four refusals of the media normalizer, all `400` in domain `assets` (docs/decisions.md, Assets:
// media). Each detail names what was wrong and, for a limit, the limit.
import { DaemonError } from '../../../errors/daemon-error.ts';

export const UNSUPPORTED_MEDIA_TYPE = 'unsupported_media_type';
export const ASSET_TOO_LARGE = 'asset_too_large';
export const ASSET_LIMIT_EXCEEDED = 'asset_limit_exceeded';
export const INVALID_ASSET_CONTENT = 'invalid_asset_content';

export const unsupported = (detail: string): DaemonError =>
  new DaemonError(400, 'assets', UNSUPPORTED_MEDIA_TYPE, detail);
export const tooLarge = (detail: string): DaemonError =>
  new DaemonError(400, 'assets', ASSET_TOO_LARGE, detail);
export const limitExceeded = (detail: string): DaemonError =>
  new DaemonError(400, 'assets', ASSET_LIMIT_EXCEEDED, detail);
export const invalid = (detail: string): DaemonError =>
  new DaemonError(400, 'assets', INVALID_ASSET_CONTENT, detail);
