// One skill on disk (ops-runtime §9, api-core §12.1): `SKILL.md` with optional YAML frontmatter
// and an instruction body, plus optional runtime metadata in `agents/kheish.yaml`. Parsing never
// throws past `parseSkill`: every problem becomes a SkillLoadError the loader turns into a warning.

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, sep } from 'node:path';
import { z } from 'zod';

export const SKILL_FILE = 'SKILL.md';
const CONFIG_FILE = join('agents', 'kheish.yaml');
/** Files hashed into a digest, at most (a skill is a handful of files; this bounds a stray tree). */
const MAX_DIGEST_FILES = 512;
/** Bundled files above this size enter the digest by length only (a startup never reads a data set). */
const MAX_HASHED_FILE_BYTES = 8 * 1024 * 1024;
/** Instructions are prompt text: a larger SKILL.md is a mistake, skipped with a warning. */
const MAX_SKILL_FILE_BYTES = 1024 * 1024;

/** Where a root comes from, in precedence order (the reference's wire spelling); `daemon` is the
 * daemon-owned root of promoted procedures, ranked last (decision 523). */
export type SkillScope = 'explicit' | 'repo' | 'user' | 'daemon';
export type SkillContext = 'inline' | 'fork';

export interface SkillRuntime {
  allowed_tools: string[];
  blocked_tools: string[];
  context: SkillContext;
  agent_profile?: string;
  provider?: string;
  model?: string;
  fallback_model?: string;
}

export interface SkillDefinition {
  name: string;
  description: string;
  when_to_use?: string;
  version?: string;
  /** The SKILL.md file. */
  skill_path: string;
  /** The skill's directory (what `${KHEISH_SKILL_DIR}` names). */
  skill_root: string;
  scope: SkillScope;
  digest: string;
  runtime: SkillRuntime;
  instructions: string;
}

export class SkillLoadError extends Error {}

const optionalText = z
  .union([z.string(), z.number()])
  .transform((v) => String(v).trim())
  .optional()
  .nullable()
  .transform((v) => (v ? v : undefined));

const Frontmatter = z.object({
  name: optionalText,
  description: optionalText,
  version: optionalText,
  when_to_use: optionalText,
  'when-to-use': optionalText,
});

const toolList = z
  .array(z.string().trim().min(1))
  .nullish()
  .transform((v) => v ?? []);
const RuntimeFile = z.object({
  allowed_tools: toolList,
  blocked_tools: toolList,
  context: z
    .enum(['inline', 'fork'])
    .nullish()
    .transform((v) => v ?? 'inline'),
  agent_profile: optionalText,
  provider: optionalText,
  model: optionalText,
  fallback_model: optionalText,
});

/** Collapses whitespace: names, descriptions and hints are single lines. */
const oneLine = (s: string) => s.split(/\s+/).filter(Boolean).join(' ');

/** `---` on the first line opens the frontmatter, the next `---` line closes it; else none. */
export function splitFrontmatter(text: string): { frontmatter: string | null; body: string } {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines[0]?.trimEnd() !== '---') return { frontmatter: null, body: lines.join('\n') };
  const end = lines.findIndex((l, i) => i > 0 && l.trimEnd() === '---');
  if (end < 0) return { frontmatter: null, body: lines.join('\n') };
  return { frontmatter: lines.slice(1, end).join('\n'), body: lines.slice(end + 1).join('\n') };
}

/**
 * The first prose paragraph of the body: headings and fenced code are not prose (a body with
 * nothing but headings falls back to its first heading).
 */
export function firstParagraph(body: string): string | undefined {
  const out: string[] = [];
  let heading: string | undefined;
  let fenced = false;
  for (const raw of body.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('```') || line.startsWith('~~~')) {
      fenced = !fenced;
      if (out.length) break;
      continue;
    }
    if (fenced) continue;
    if (line === '' || line.startsWith('#')) {
      heading ??= line.replace(/^#+/, '').trim() || undefined;
      if (out.length) break;
      continue;
    }
    out.push(line);
  }
  const text = out.length ? out.join(' ') : heading;
  return text ? oneLine(text) : undefined;
}

/** Loaded on the first skill with YAML: a daemon without skills never loads the parser (lazy boot). */
let yamlParse: ((source: string) => unknown) | undefined;
function parseYaml(source: string): unknown {
  yamlParse ??= (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse;
  return yamlParse(source);
}

function yamlObject(source: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = parseYaml(source);
  } catch (err) {
    throw new SkillLoadError(`invalid YAML in ${what}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new SkillLoadError(`${what} must be a YAML mapping`);
  return value as Record<string, unknown>;
}

function check<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new SkillLoadError(`${what}: ${issue.path.join('.') || 'value'}: ${issue.message}`);
}

function loadRuntime(skillDir: string): SkillRuntime {
  const path = join(skillDir, CONFIG_FILE);
  if (!existsSync(path)) return { allowed_tools: [], blocked_tools: [], context: 'inline' };
  const raw = check(RuntimeFile, yamlObject(readFileSync(path, 'utf8'), CONFIG_FILE), CONFIG_FILE);
  const runtime: SkillRuntime = {
    allowed_tools: raw.allowed_tools,
    blocked_tools: raw.blocked_tools,
    context: raw.context,
  };
  for (const k of ['agent_profile', 'provider', 'model', 'fallback_model'] as const)
    if (raw[k] !== undefined) runtime[k] = raw[k];
  return runtime;
}

/**
 * sha256 over the skill's files (relative path and bytes, in path order): its SKILL.md, runtime
 * config and bundled files, not dotfiles and not nested skills (directories with a SKILL.md).
 */
export function skillDigest(skillDir: string): string {
  const files: string[] = [];
  const walk = (dir: string) => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      if (files.length >= MAX_DIGEST_FILES || e.name.startsWith('.')) continue;
      const path = join(dir, e.name);
      if (e.isFile()) files.push(path);
      else if (e.isDirectory() && !existsSync(join(path, SKILL_FILE))) walk(path);
    }
  };
  walk(skillDir);
  const hash = createHash('sha256');
  for (const f of files) {
    hash.update(relative(skillDir, f).split(sep).join('/'));
    hash.update('\0');
    const size = statSync(f).size;
    hash.update(size > MAX_HASHED_FILE_BYTES ? `size:${size}` : readFileSync(f));
    hash.update('\0');
  }
  return hash.digest('hex');
}

/** The name a skill without a frontmatter `name` gets: its directory path under the root, `:`-joined. */
export function defaultName(root: string, skillDir: string): string | undefined {
  const rel = relative(root, skillDir);
  if (!rel || rel.startsWith('..')) return undefined;
  return rel.split(sep).join(':');
}

export function parseSkill(file: string, skillDir: string, root: string, scope: SkillScope): SkillDefinition {
  const size = statSync(file).size;
  if (size > MAX_SKILL_FILE_BYTES)
    throw new SkillLoadError(`${SKILL_FILE} is ${size} bytes; the limit is ${MAX_SKILL_FILE_BYTES}`);
  const { frontmatter, body } = splitFrontmatter(readFileSync(file, 'utf8'));
  const meta = check(
    Frontmatter,
    frontmatter === null ? {} : yamlObject(frontmatter, `${SKILL_FILE} frontmatter`),
    `${SKILL_FILE} frontmatter`,
  );
  const name = meta.name ? oneLine(meta.name) : defaultName(root, skillDir);
  if (!name) throw new SkillLoadError('a SKILL.md at the root of a skill root needs a frontmatter `name`');
  const instructions = body.trim();
  const description = meta.description ? oneLine(meta.description) : firstParagraph(instructions);
  if (!description)
    throw new SkillLoadError(
      `skill \`${name}\` has no description (no frontmatter \`description\` and no prose paragraph)`,
    );
  const whenToUse = meta.when_to_use ?? meta['when-to-use'];
  return {
    name,
    description,
    ...(whenToUse ? { when_to_use: oneLine(whenToUse) } : {}),
    ...(meta.version ? { version: oneLine(meta.version) } : {}),
    skill_path: file,
    skill_root: skillDir,
    scope,
    digest: skillDigest(skillDir),
    runtime: loadRuntime(skillDir),
    instructions,
  };
}
