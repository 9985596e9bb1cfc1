// The numeric limits of api-core §7.2, in one place so the refusal details and the tests agree.

const MiB = 1024 * 1024;

export const MAX_RAW_UPLOAD_BYTES = 12 * MiB;

export const IMAGE_LIMITS = {
  maxSourceEdge: 16_384,
  maxSourceArea: 50_000_000,
  maxDecodeBytes: 256 * MiB,
  maxNormalizedEdge: 2_048,
  maxNormalizedBytes: 4 * MiB,
} as const;

export const PDF_LIMITS = {
  maxPages: 128,
  maxObjects: 10_000,
  maxStreams: 2_048,
  maxStreamBytes: 12 * MiB,
  maxTotalStreamBytes: 12 * MiB,
} as const;

/** Derived text of any document (text types, PDF extraction, DXF summary). */
export const MAX_TEXT_BYTES = 4 * MiB;

export const DXF_LIMITS = {
  maxPrimitives: 20_000,
  maxSegments: 20_000,
  maxPolylinePoints: 20_000,
  /** Longest edge of the rendered PNG preview. */
  previewEdge: 1_024,
} as const;

export const AUDIO_LIMITS = {
  minSampleRate: 8_000,
  maxSampleRate: 192_000,
  minChannels: 1,
  maxChannels: 8,
  maxDurationSeconds: 30 * 60,
} as const;
