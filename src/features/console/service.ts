// The web console's files (console/dist, built by `npm run build:console`, which `npm ci` runs
// through the `prepare` script). index.html is read on each request (a rebuild while the daemon
// runs names new bundles in it); the content-hashed bundles are kept in memory once read, as their
// bytes never change under a name. Only names found in the build folder are served, so no path
// reaches outside it.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';

export interface StaticFile {
  body: Buffer;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.map': 'application/json',
};

/** Shown when the console was not built (a checkout without `npm ci`): says how to build it. */
const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Kheish Air</title></head>
<body><main><h1>The web console is not built</h1><p>Run <code>npm run build:console</code> (or <code>npm ci</code>)
in the daemon's folder, then reload. The API at <code>/v1</code> works without it.</p></main></body></html>\n`;

export const DEFAULT_CONSOLE_DIR = resolve(import.meta.dirname, '../../../console/dist');

export class ConsoleService {
  private readonly dir: string;
  private readonly cache = new Map<string, StaticFile>();

  constructor(dir = DEFAULT_CONSOLE_DIR) {
    this.dir = dir;
  }

  /** index.html, or a page saying how to build the console. */
  index(): StaticFile {
    return this.file('index.html', false) ?? toFile(Buffer.from(NOT_BUILT), '.html');
  }

  /** A file of the build's assets/ folder by plain name, or null. */
  asset(name: string): StaticFile | null {
    if (!/^[\w.-]+$/.test(name) || name.startsWith('.')) return null;
    return this.file(`assets/${name}`);
  }

  private file(rel: string, keep = true): StaticFile | null {
    const cached = this.cache.get(rel);
    if (cached) return cached;
    let found: StaticFile | null = null;
    try {
      const [folder, name] = rel.includes('/') ? rel.split('/') : ['', rel];
      const dir = join(this.dir, folder!);
      // Listed, not joined: a name must be one the build wrote.
      if (readdirSync(dir).includes(name!)) found = toFile(readFileSync(join(dir, name!)), extname(name!));
    } catch {
      found = null;
    }
    // A missing file is looked for again next time (the console may be built while the daemon runs).
    if (found && keep) this.cache.set(rel, found);
    return found;
  }
}

function toFile(body: Buffer, ext: string): StaticFile {
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  return { body, type: TYPES[ext] ?? 'application/octet-stream', etag };
}
