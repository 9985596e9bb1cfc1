// Shared audio metadata checks: sample rate and channels where the container declares them, and
// the duration where it can be computed.
import { invalid, limitExceeded } from '../errors.ts';
import { AUDIO_LIMITS } from '../limits.ts';

export interface AudioInfo {
  sample_rate_hz?: number;
  channels?: number;
  duration_ms?: number;
}

export function checkRate(rate: number, format: string): void {
  const { minSampleRate, maxSampleRate } = AUDIO_LIMITS;
  if (!Number.isFinite(rate) || rate <= 0)
    throw invalid(`${format} declares an invalid sample rate (${rate})`);
  if (rate < minSampleRate || rate > maxSampleRate)
    throw limitExceeded(
      `${format} sample rate is ${rate} Hz; the limit is ${minSampleRate}–${maxSampleRate} Hz`,
    );
}

export function checkChannels(channels: number, format: string): void {
  const { minChannels, maxChannels } = AUDIO_LIMITS;
  if (channels < minChannels || channels > maxChannels)
    throw limitExceeded(`${format} has ${channels} channels; the limit is ${minChannels}–${maxChannels}`);
}

export function checkDuration(seconds: number, format: string): number {
  const max = AUDIO_LIMITS.maxDurationSeconds;
  if (seconds > max)
    throw limitExceeded(
      `${format} lasts ${Math.round(seconds)} s; audio is limited to ${max} s (30 minutes)`,
    );
  return Math.round(seconds * 1000);
}
