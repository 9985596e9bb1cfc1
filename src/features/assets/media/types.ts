// The supported media types, their aliases and the file-name extensions used when a caller declares
// no type. Declared types are lower-cased and stripped of parameters (`audio/webm;codecs=opus`).

export const SUPPORTED_MEDIA_TYPES = [
  'text/plain',
  'text/csv',
  'text/markdown',
  'application/json',
  'application/pdf',
  'application/dxf',
  'image/png',
  'image/jpeg',
  'audio/wav',
  'audio/webm',
  'audio/mpeg',
  'audio/mpga',
  'audio/opus',
  'audio/aac',
  'audio/flac',
  'audio/mp4',
  'audio/m4a',
  'audio/pcm',
  'audio/l16',
  'audio/l24',
] as const;

export type SupportedMediaType = (typeof SUPPORTED_MEDIA_TYPES)[number];

const SUPPORTED = new Set<string>(SUPPORTED_MEDIA_TYPES);

export const MEDIA_TYPE_ALIASES: Readonly<Record<string, SupportedMediaType>> = {
  'text/x-csv': 'text/csv',
  'application/csv': 'text/csv',
  'text/comma-separated-values': 'text/csv',
  'text/x-markdown': 'text/markdown',
  'text/md': 'text/markdown',
  'text/json': 'application/json',
  'application/x-json': 'application/json',
  'image/jpg': 'image/jpeg',
  'image/pjpeg': 'image/jpeg',
  'image/x-png': 'image/png',
  'image/vnd.dxf': 'application/dxf',
  'image/x-dxf': 'application/dxf',
  'application/x-dxf': 'application/dxf',
  'application/x-autocad-dxf': 'application/dxf',
  'audio/x-wav': 'audio/wav',
  'audio/wave': 'audio/wav',
  'audio/vnd.wave': 'audio/wav',
  'audio/x-pn-wav': 'audio/wav',
  'audio/mp3': 'audio/mpeg',
  'audio/x-mp3': 'audio/mpeg',
  'audio/mpeg3': 'audio/mpeg',
  'audio/x-mpeg': 'audio/mpeg',
  'audio/x-mpeg-3': 'audio/mpeg',
  'audio/x-mpga': 'audio/mpga',
  'audio/ogg': 'audio/opus',
  'audio/x-opus': 'audio/opus',
  'audio/x-opus+ogg': 'audio/opus',
  'audio/x-aac': 'audio/aac',
  'audio/aacp': 'audio/aac',
  'audio/x-hx-aac-adts': 'audio/aac',
  'audio/x-flac': 'audio/flac',
  'audio/x-m4a': 'audio/m4a',
  'audio/x-mp4': 'audio/mp4',
  'audio/x-pcm': 'audio/pcm',
  'audio/raw': 'audio/pcm',
  'audio/x-l16': 'audio/l16',
  'audio/x-l24': 'audio/l24',
};

/** Declared types that say nothing about the content: treated as no declaration at all. */
const UNDECLARED = new Set(['', 'application/octet-stream', 'binary/octet-stream', 'application/unknown']);

/**
 * The canonical supported type for a declared one, `undefined` when nothing useful was declared,
 * or `{ unknown }` carrying the cleaned declaration for an unsupported type.
 */
export function canonicalMediaType(
  declared: string | undefined,
): SupportedMediaType | undefined | { unknown: string } {
  if (declared === undefined) return undefined;
  const bare = declared.split(';')[0]!.trim().toLowerCase();
  if (UNDECLARED.has(bare)) return undefined;
  if (SUPPORTED.has(bare)) return bare as SupportedMediaType;
  const alias = MEDIA_TYPE_ALIASES[bare];
  return alias ?? { unknown: bare };
}

const BY_EXTENSION: Readonly<Record<string, SupportedMediaType>> = {
  txt: 'text/plain',
  text: 'text/plain',
  log: 'text/plain',
  csv: 'text/csv',
  md: 'text/markdown',
  markdown: 'text/markdown',
  json: 'application/json',
  pdf: 'application/pdf',
  dxf: 'application/dxf',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  wav: 'audio/wav',
  webm: 'audio/webm',
  mp3: 'audio/mpeg',
  mpga: 'audio/mpga',
  opus: 'audio/opus',
  ogg: 'audio/opus',
  aac: 'audio/aac',
  flac: 'audio/flac',
  mp4: 'audio/mp4',
  m4a: 'audio/m4a',
  pcm: 'audio/pcm',
  raw: 'audio/pcm',
  l16: 'audio/l16',
  l24: 'audio/l24',
};

export function typeFromExtension(fileName: string): SupportedMediaType | undefined {
  const dot = fileName.lastIndexOf('.');
  if (dot < 0) return undefined;
  return BY_EXTENSION[fileName.slice(dot + 1).toLowerCase()];
}

export const isTextType = (t: SupportedMediaType): boolean =>
  t === 'text/plain' || t === 'text/csv' || t === 'text/markdown' || t === 'application/json';

export const isAudioType = (t: SupportedMediaType): boolean => t.startsWith('audio/');
