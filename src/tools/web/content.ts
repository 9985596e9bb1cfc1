// Content-type policy and decoding for fetched bodies: the tools return text to a model, so
// binary payloads (images, archives, executables) are refused instead of being mangled.

const TEXT_TYPES = new Set([
  'application/json',
  'application/xml',
  'application/xhtml+xml',
  'application/rss+xml',
  'application/atom+xml',
  'application/ld+json',
  'application/javascript',
  'application/x-javascript',
  'application/ecmascript',
  'application/yaml',
  'application/x-yaml',
  'application/toml',
  'application/x-ndjson',
  'application/sql',
  'application/graphql',
]);

export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Null when the declared type is text we can return; otherwise why it is refused. */
export function refusedContentType(contentType: string | undefined): string | null {
  const type = mediaType(contentType);
  if (type === '') return null; // undeclared: decided by sniffing the bytes
  if (type.startsWith('text/') || TEXT_TYPES.has(type) || type.endsWith('+json') || type.endsWith('+xml')) {
    return null;
  }
  return `binary or unsupported content type ${type}; web_fetch only returns text`;
}

/** Undeclared bodies: NUL bytes or a well-known binary signature mean it is not text. */
export function looksBinary(sample: Buffer): boolean {
  const head = sample.subarray(0, 1024);
  if (head.includes(0)) return true;
  const magic = [
    [0x89, 0x50, 0x4e, 0x47], // PNG
    [0xff, 0xd8, 0xff], // JPEG
    [0x47, 0x49, 0x46, 0x38], // GIF
    [0x25, 0x50, 0x44, 0x46], // PDF
    [0x50, 0x4b, 0x03, 0x04], // ZIP
    [0x1f, 0x8b], // gzip
    [0x7f, 0x45, 0x4c, 0x46], // ELF
  ];
  return magic.some((m) => m.every((b, i) => head[i] === b));
}

export function isHtml(contentType: string | undefined, body: Buffer): boolean {
  const type = mediaType(contentType);
  if (type === 'text/html' || type === 'application/xhtml+xml') return true;
  if (type !== '') return false;
  const start = body.subarray(0, 512).toString('latin1').trimStart().toLowerCase();
  return start.startsWith('<!doctype html') || start.startsWith('<html');
}

/** Decodes with the declared charset (or an HTML meta charset), falling back to UTF-8. */
export function decodeBody(body: Buffer, contentType: string | undefined, html: boolean): string {
  let charset = /charset\s*=\s*"?([\w.:-]+)/i.exec(contentType ?? '')?.[1];
  if (!charset && html) {
    const head = body.subarray(0, 2048).toString('latin1');
    charset = /<meta[^>]+charset\s*=\s*["']?([\w.:-]+)/i.exec(head)?.[1];
  }
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(body);
  } catch {
    return new TextDecoder('utf-8').decode(body);
  }
}
