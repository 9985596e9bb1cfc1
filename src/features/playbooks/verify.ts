// The product-view verifier (api-collab §3.2, `POST /v1/flows/{flow_id}/verify/product-view`):
// checks a report file the Flow produced in the workspace (it exists; it has the required Markdown
// sections) and that no forbidden tool was called anywhere in the Flow's projection. A pass appends
// a `product_view` evidence ref to the Flow (idempotent by kind+id), so a manifest can require it.

import { DaemonError } from '../../errors/daemon-error.ts';
import { ToolFailure } from '../../tools/builtin/failure.ts';
import { closeDir, type DirRef, openDir, openRegular, readAll } from '../../tools/builtin/secure-fs.ts';
import {
  canonicalize,
  display,
  lexicalComponents,
  openWorkspace,
} from '../../tools/builtin/workspace-path.ts';
import type { Primitives } from './projection.ts';
import type { EvidenceRef, PlaybookManifest } from './schema.ts';

/** Decision 431: a report over this size is a failed check, not read. */
export const MAX_REPORT_BYTES = 4 * 1024 * 1024;

export interface VerifyRequest {
  report_path: string;
  required_sections?: string[] | undefined;
  forbidden_tools?: string[] | undefined;
}
export interface Check {
  name: string;
  passed: boolean;
  details: string;
}

const badPath = (detail: string) => new DaemonError(400, 'flows', 'invalid_report_path', detail);

/** The report's text, or why it cannot be read (a failed check); a bad path throws 400. */
export async function readReport(
  workspaceRoot: string | null,
  raw: string,
): Promise<{ path: string; text: string | null; why: string }> {
  if (!workspaceRoot) return { path: raw, text: null, why: 'the daemon has no workspace root' };
  const root = await openWorkspace(workspaceRoot).catch((err: unknown) => {
    if (err instanceof ToolFailure) return err;
    throw err;
  });
  if (root instanceof ToolFailure) return { path: raw, text: null, why: root.message };
  // Resolution is the file tools' own confinement: any refusal there (`..` above the root, an
  // absolute path outside it, a link leading out) is the caller's error.
  let components: string[];
  let shown: string;
  try {
    const lexical = lexicalComponents(root, raw, 'report_path');
    shown = display(lexical);
    if (!lexical.length) throw badPath('report_path must name a file inside the workspace');
    const canon = await canonicalize(root, lexical, shown);
    if (canon.existing < canon.components.length)
      return { path: shown, text: null, why: `${shown} does not exist` };
    components = canon.components;
  } catch (err) {
    if (err instanceof ToolFailure) throw badPath(err.message);
    throw err;
  }
  // Opening re-walks with no-follow opens; a directory, a FIFO or a swapped link is a failed check.
  let dir: DirRef | null = null;
  try {
    dir = await openDir(root, components.slice(0, -1), { create: false, display: shown });
    const fh = await openRegular(dir, components[components.length - 1]!, shown);
    try {
      const buf = await readAll(fh, MAX_REPORT_BYTES, shown, 'keep the report smaller');
      return { path: shown, text: buf.toString('utf8'), why: '' };
    } finally {
      await fh.close();
    }
  } catch (err) {
    if (err instanceof ToolFailure) return { path: shown, text: null, why: err.message };
    throw err;
  } finally {
    await closeDir(dir);
  }
}

const norm = (s: string) => s.replace(/\s+/g, ' ').trim().toLowerCase();

/** ATX (`## Title`) and setext headings outside fenced code blocks, normalized. */
export function headingsOf(markdown: string): Set<string> {
  const out = new Set<string>();
  let fence: string | null = null;
  const lines = markdown.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const f = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (f) {
      if (fence === null) fence = f[1]![0]!;
      else if (f[1]![0] === fence) fence = null;
      continue;
    }
    if (fence !== null) continue;
    const atx = /^ {0,3}#{1,6}(?:\s+(.*?))?(?:\s+#+)?\s*$/.exec(line);
    if (atx) {
      out.add(norm(atx[1] ?? ''));
      continue;
    }
    const next = lines[i + 1];
    if (line.trim() && next !== undefined && /^ {0,3}(=+|-+)\s*$/.test(next)) out.add(norm(line));
  }
  return out;
}

/** The checks, in a stable order: report_exists, section:<name>…, forbidden_tools. */
export function productViewChecks(
  report: { path: string; text: string | null; why: string },
  body: VerifyRequest,
  manifest: PlaybookManifest,
  p: Primitives,
): Check[] {
  const checks: Check[] = [
    {
      name: 'report_exists',
      passed: report.text !== null,
      details: report.text !== null ? `${report.path} read` : report.why,
    },
  ];
  const headings = report.text === null ? null : headingsOf(report.text);
  for (const s of body.required_sections ?? []) {
    const found = headings?.has(norm(s)) ?? false;
    checks.push({
      name: `section:${s}`,
      passed: found,
      details: headings === null ? 'no report to read' : found ? 'heading present' : 'no such heading',
    });
  }
  // Decision 432: the manifest's deny list counts even when its policy is not enforced.
  const forbidden = [...new Set([...(body.forbidden_tools ?? []), ...(manifest.tools?.deny ?? [])])];
  const used = p.tools_used.filter((t) => forbidden.includes(t)).sort();
  checks.push({
    name: 'forbidden_tools',
    passed: used.length === 0,
    details: used.length
      ? `forbidden tools were called: ${used.join(', ')}`
      : forbidden.length
        ? `none of ${forbidden.join(', ')} was called`
        : 'no forbidden tools named',
  });
  return checks;
}

export const productViewRef = (path: string): EvidenceRef => ({
  kind: 'product_view',
  id: path,
  description: 'product view verified by the daemon',
});
