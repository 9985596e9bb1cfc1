// GET /v1/docs: the daemon's own documentation manifest (the published docs' "docs" domain): every
// page of the project's docs/ folder that ships with this daemon, with its title and size, and each
// page's markdown at /v1/docs/{page}. Read from disk once: the pages do not change while it runs.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DaemonError } from '../../errors/daemon-error.ts';
import { DAEMON_VERSION } from '../../version.ts';

const DOCS_DIR = fileURLToPath(new URL('../../../docs/', import.meta.url));
const PAGE_ID = /^[a-z0-9][a-z0-9-]*$/;

export interface DocPage {
  id: string;
  title: string;
  path: string;
  url: string;
  bytes: number;
}

export class DocsService {
  private readonly dir: string;
  private pages: Map<string, { page: DocPage; text: string }> | null = null;

  constructor(dir = DOCS_DIR) {
    this.dir = dir;
  }

  manifest() {
    return {
      version: DAEMON_VERSION,
      openapi_url: '/v1/openapi.json',
      pages: [...this.load().values()].map((p) => p.page),
    };
  }

  page(id: string): string {
    const found = PAGE_ID.test(id) ? this.load().get(id) : undefined;
    if (!found)
      throw new DaemonError(
        404,
        'docs',
        'doc_not_found',
        `no documentation page \`${id}\`; GET /v1/docs lists them`,
      );
    return found.text;
  }

  private load() {
    if (this.pages) return this.pages;
    const pages = new Map<string, { page: DocPage; text: string }>();
    let files: string[] = [];
    try {
      files = readdirSync(this.dir)
        .filter((f) => f.endsWith('.md'))
        .sort();
    } catch {
      // An install without its docs folder serves an empty manifest.
    }
    for (const file of files) {
      const id = file.slice(0, -3);
      if (!PAGE_ID.test(id)) continue;
      const text = readFileSync(`${this.dir}${file}`, 'utf8');
      const title = /^# (.+)$/m.exec(text)?.[1]?.trim() ?? id;
      pages.set(id, {
        page: { id, title, path: `docs/${file}`, url: `/v1/docs/${id}`, bytes: Buffer.byteLength(text) },
        text,
      });
    }
    this.pages = pages;
    return pages;
  }
}
