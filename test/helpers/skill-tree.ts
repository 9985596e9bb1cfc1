// Writes skill directories for tests: SKILL.md (raw text, or frontmatter fields plus a body) and an
// optional agents/kheish.yaml.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SkillSpec {
  /** Frontmatter fields (omitted: no frontmatter at all). */
  meta?: Record<string, string>;
  body?: string;
  /** Raw SKILL.md text (instead of meta + body). */
  raw?: string;
  /** Raw agents/kheish.yaml text. */
  runtime?: string;
}

export function writeSkill(root: string, relDir: string, spec: SkillSpec): string {
  const dir = join(root, relDir);
  mkdirSync(dir, { recursive: true });
  const front = spec.meta
    ? `---\n${Object.entries(spec.meta)
        .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
        .join('\n')}\n---\n`
    : '';
  writeFileSync(join(dir, 'SKILL.md'), spec.raw ?? `${front}${spec.body ?? ''}\n`);
  if (spec.runtime !== undefined) {
    mkdirSync(join(dir, 'agents'), { recursive: true });
    writeFileSync(join(dir, 'agents', 'kheish.yaml'), spec.runtime);
  }
  return dir;
}

/** A `${NAME}` skill placeholder (built, so lint does not take it for a template slip). */
export const placeholder = (name: string) => `$${'{'}${name}}`;
