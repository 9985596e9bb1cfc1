// The skill registry (ops-runtime §9): discovered once at startup from the roots in precedence
// order (explicit, repository from the workspace upward, user), keyed by resolved name; the
// first definition of a name wins and later ones become loader warnings. No hot reload.
import { type Dirent, readdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  parseSkill,
  SKILL_FILE,
  type SkillDefinition,
  SkillLoadError,
  type SkillScope,
} from './definition.ts';

/** How deep below a root a SKILL.md is looked for, and how many directories one root may cost. */
const MAX_DEPTH = 6;
const MAX_DIRS_PER_ROOT = 2000;
/** Within one directory: canonical first, then the compatibility and legacy spellings. */
const ROOT_DIRS = ['skills', join('.claude', 'skills'), join('.agents', 'skills')];

export interface SkillRoot {
  path: string;
  scope: SkillScope;
}

/**
 * A daemon-owned source of skills (promoted procedures, issue 19): its set changes while the daemon
 * runs, so it is asked at every lookup. It ranks after every discovered root (a discovered skill of
 * the same name wins and the source's is not shown), and it only offers what it mounts.
 */
export interface SkillSource {
  list(): SkillDefinition[];
  get(name: string): SkillDefinition | undefined;
  /**
   * Called by use_skill before a source skill runs: throws to refuse (say why), or returns where
   * its child works (a directory the activation names).
   */
  prepareUse(
    skill: SkillDefinition,
    call: { run_id: string; tool_call_id: string; signal?: AbortSignal },
  ): Promise<{ worktree_path?: string }>;
}

export interface SkillWarning {
  path: string;
  message: string;
}

const canonical = (p: string) => {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
};
const isDir = (p: string) => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/**
 * The roots in precedence order, each once (by real path; the first mention keeps its scope).
 * Explicit roots are kept even when missing (the loader warns); the others only when they exist.
 * The repository walk stops at the home directory, whose roots are the user roots.
 */
export function discoverRoots(
  explicit: string[],
  workspaceRoot: string,
  home: string | undefined,
): SkillRoot[] {
  const candidates: SkillRoot[] = explicit.map((path) => ({ path: resolve(path), scope: 'explicit' }));
  const homeDir = home ? resolve(home) : undefined;
  for (let dir = resolve(workspaceRoot); ; dir = dirname(dir)) {
    if (dir === homeDir) break;
    for (const sub of ROOT_DIRS) candidates.push({ path: join(dir, sub), scope: 'repo' });
    if (dirname(dir) === dir) break;
  }
  if (homeDir) for (const sub of ROOT_DIRS) candidates.push({ path: join(homeDir, sub), scope: 'user' });
  const seen = new Set<string>();
  const out: SkillRoot[] = [];
  for (const c of candidates) {
    if (c.scope !== 'explicit' && !isDir(c.path)) continue;
    const path = canonical(c.path);
    if (seen.has(path)) continue;
    seen.add(path);
    out.push({ path, scope: c.scope });
  }
  return out;
}

export class SkillRegistry {
  readonly roots: SkillRoot[];
  readonly warnings: SkillWarning[] = [];
  private readonly skills = new Map<string, SkillDefinition>();
  private readonly sources: SkillSource[] = [];

  constructor(roots: SkillRoot[]) {
    this.roots = roots;
    for (const root of roots) this.scan(root);
  }

  addSource(source: SkillSource): void {
    this.sources.push(source);
  }

  get size(): number {
    return this.skills.size + this.sourced().length;
  }

  get(name: string): SkillDefinition | undefined {
    return this.skills.get(name) ?? this.sourceOf(name)?.get(name);
  }

  /** The source a name resolves to, undefined for a discovered skill or an unknown name. */
  sourceOf(name: string): SkillSource | undefined {
    if (this.skills.has(name)) return undefined;
    return this.sources.find((s) => s.get(name) !== undefined);
  }

  /** The sources' skills not shadowed by a discovered one (first source wins a name). */
  private sourced(): SkillDefinition[] {
    const out = new Map<string, SkillDefinition>();
    for (const src of this.sources)
      for (const s of src.list()) if (!this.skills.has(s.name) && !out.has(s.name)) out.set(s.name, s);
    return [...out.values()];
  }

  /** Every skill by name; with a query, those whose name, description or when_to_use contain it. */
  list(query?: string): SkillDefinition[] {
    const q = query?.trim().toLowerCase();
    return [...this.skills.values(), ...this.sourced()]
      .filter(
        (s) =>
          !q ||
          s.name.toLowerCase().includes(q) ||
          s.description.toLowerCase().includes(q) ||
          (s.when_to_use ?? '').toLowerCase().includes(q),
      )
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Breadth first (so a shallow skill is met before a deep one), dotfiles skipped, bounded. */
  private scan(root: SkillRoot): void {
    if (!isDir(root.path)) {
      this.warnings.push({
        path: root.path,
        message: 'explicit skill root does not exist or is not a directory',
      });
      return;
    }
    const queue: Array<{ dir: string; depth: number }> = [{ dir: root.path, depth: 0 }];
    const visited = new Set([root.path]);
    let truncated = false;
    while (queue.length > 0) {
      const { dir, depth } = queue.shift()!;
      let entries: Dirent[];
      try {
        entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
      } catch (err) {
        this.warnings.push({ path: dir, message: `cannot read skill directory: ${(err as Error).message}` });
        continue;
      }
      if (entries.some((e) => e.name === SKILL_FILE && (e.isFile() || e.isSymbolicLink())))
        this.load(join(dir, SKILL_FILE), dir, root);
      for (const e of entries) {
        if (e.name.startsWith('.') || depth + 1 > MAX_DEPTH) continue;
        const path = join(dir, e.name);
        if (!(e.isDirectory() || (e.isSymbolicLink() && isDir(path)))) continue;
        if (visited.size >= MAX_DIRS_PER_ROOT) {
          truncated = true;
          continue;
        }
        const real = canonical(path);
        // A symlink back into the tree would loop; each real directory is scanned once.
        if (visited.has(real)) continue;
        visited.add(real);
        queue.push({ dir: path, depth: depth + 1 });
      }
    }
    if (truncated)
      this.warnings.push({
        path: root.path,
        message: `skill scan stopped after ${MAX_DIRS_PER_ROOT} directories`,
      });
  }

  private load(file: string, dir: string, root: SkillRoot): void {
    let skill: SkillDefinition;
    try {
      skill = parseSkill(file, dir, root.path, root.scope);
    } catch (err) {
      const message =
        err instanceof SkillLoadError ? err.message : `cannot load skill: ${(err as Error).message}`;
      this.warnings.push({ path: file, message: `${message}; skill skipped` });
      return;
    }
    const first = this.skills.get(skill.name);
    if (first) {
      this.warnings.push({
        path: file,
        message: `duplicate skill name \`${skill.name}\` ignored: ${first.skill_path} (${first.scope}) has precedence`,
      });
      return;
    }
    this.skills.set(skill.name, skill);
  }
}
