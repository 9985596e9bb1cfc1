// Reads a V8 .cpuprofile (node --cpu-prof) and summarizes where the time went: self time by
// function, by package/source area, and inclusive time of our own src/ functions.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from './lib/daemon.ts';
import { round } from './lib/stats.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface FrameShare {
  frame: string;
  ms: number;
  pct: number;
}

export interface ProfileSummary {
  file: string;
  total_ms: number;
  busy_ms: number;
  /** Shares below are of busy time (everything but idle). */
  self_top: FrameShare[];
  by_area: FrameShare[];
  inclusive_src_top: FrameShare[];
}

const shortUrl = (url: string): string => {
  if (!url) return '';
  const path = url.startsWith('file://') ? new URL(url).pathname : url;
  return path.startsWith(ROOT) ? relative(ROOT, path) : path;
};

/** The area a frame belongs to: an npm package, a src/ folder, node internals, or a V8 pseudo-frame. */
export function areaOf(url: string, fn: string): string {
  const u = shortUrl(url);
  if (!u) return fn.startsWith('(') ? fn : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u);
  if (pkg) return pkg[1]!;
  if (u.startsWith('node:')) return 'node:internal';
  const src = /^src\/([^/]+(?:\/[^/.]+)?)/.exec(u);
  if (src) return `src/${src[1]!.replace(/\.ts$/, '')}`;
  return u;
}

const frameName = (n: ProfileNode) =>
  `${n.callFrame.functionName || '(anonymous)'} ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;

/** `window` (ms since the profile started) keeps only the samples taken inside it. */
export function summarizeProfile(
  file: string,
  window?: { from: number; to: number },
  top = 20,
): ProfileSummary {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let at = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const id = prof.samples[i]!;
    const dt = (prof.timeDeltas[i] ?? 0) / 1000;
    at += dt;
    if (window && (at < window.from || at > window.to)) continue;
    self.set(id, (self.get(id) ?? 0) + dt);
  }
  let idle = 0;
  let total = 0;
  const selfByFrame = new Map<string, number>();
  const selfByArea = new Map<string, number>();
  for (const [id, ms] of self) {
    const n = byId.get(id)!;
    total += ms;
    if (n.callFrame.functionName === '(idle)') {
      idle += ms;
      continue;
    }
    const name = n.callFrame.url ? frameName(n) : n.callFrame.functionName;
    selfByFrame.set(name, (selfByFrame.get(name) ?? 0) + ms);
    const area = areaOf(n.callFrame.url, n.callFrame.functionName);
    selfByArea.set(area, (selfByArea.get(area) ?? 0) + ms);
  }
  const busy = total - idle;
  // Inclusive time of src/ functions, counting each frame once per stack (recursion-safe).
  const inclusive = new Map<string, number>();
  const parents = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parents.set(c, n.id);
  for (const [id, ms] of self) {
    if (byId.get(id)!.callFrame.functionName === '(idle)') continue;
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parents.get(cur)) {
      const n = byId.get(cur)!;
      if (!shortUrl(n.callFrame.url).startsWith('src/')) continue;
      const name = frameName(n);
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + ms);
    }
  }
  const rank = (m: Map<string, number>, k: number): FrameShare[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([frame, ms]) => ({ frame, ms: round(ms, 1), pct: round((100 * ms) / (busy || 1), 1) }));
  return {
    file,
    total_ms: round(total, 1),
    busy_ms: round(busy, 1),
    self_top: rank(selfByFrame, top),
    by_area: rank(selfByArea, top),
    inclusive_src_top: rank(inclusive, top),
  };
}

export function newestProfile(dir: string): string {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) throw new Error(`no .cpuprofile in ${dir}`);
  return join(dir, files.sort().at(-1)!);
}

export function renderProfile(p: ProfileSummary, k = 15): string {
  const table = (title: string, rows: FrameShare[]) =>
    [
      `| ${title} | ms | % of busy |`,
      '|---|---:|---:|',
      ...rows.slice(0, k).map((r) => `| \`${r.frame}\` | ${r.ms} | ${r.pct} |`),
    ].join('\n');
  return [
    `Profile ${p.file}: ${p.busy_ms} ms busy of ${p.total_ms} ms sampled.`,
    '',
    table('self time by area', p.by_area),
    '',
    table('self time by function', p.self_top),
    '',
    table('inclusive time, src/ functions', p.inclusive_src_top),
  ].join('\n');
}
