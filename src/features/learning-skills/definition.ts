// The canonical definition of a promoted procedure skill: what the durable record holds, what its
// files are written from, and what its fingerprint is a sha256 of. The normalization is the skill
// loader's (src/features/skills/definition.ts), so a file read back gives the same definition and
// the same fingerprint; anything else on disk is drift.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { canonicalJson } from '../../engine/output-contract.ts';
import type { SkillDefinition } from '../skills/port.ts';

export interface ProcedureDefinition {
  name: string;
  description: string;
  when_to_use: string | null;
  version: string | null;
  instructions: string;
  allowed_tools: string[];
  blocked_tools: string[];
  context: 'fork';
  agent_profile: 'verification';
  provider: string | null;
  model: string | null;
  fallback_model: string | null;
}

/** Names, descriptions and hints are single lines in the loader too. */
export const oneLine = (s: string) => s.split(/\s+/).filter(Boolean).join(' ');

export const fingerprintOf = (d: ProcedureDefinition): string =>
  createHash('sha256').update(canonicalJson(d)).digest('hex');

/** The definition a loaded skill stands for (null when it is not a fork/verification skill at all). */
export function definitionOfLoaded(s: SkillDefinition): ProcedureDefinition | null {
  const r = s.runtime;
  if (r.context !== 'fork' || r.agent_profile !== 'verification') return null;
  return {
    name: s.name,
    description: s.description,
    when_to_use: s.when_to_use ?? null,
    version: s.version ?? null,
    instructions: s.instructions,
    allowed_tools: [...r.allowed_tools],
    blocked_tools: [...r.blocked_tools],
    context: 'fork',
    agent_profile: 'verification',
    provider: r.provider ?? null,
    model: r.model ?? null,
    fallback_model: r.fallback_model ?? null,
  };
}

let yamlStringify: ((value: unknown) => string) | undefined;
const toYaml = (value: unknown) => {
  yamlStringify ??= (createRequire(import.meta.url)('yaml') as typeof import('yaml')).stringify;
  return yamlStringify(value);
};

/** SKILL.md and agents/kheish.yaml text of a definition (YAML quoting by the same library that reads it). */
export function renderFiles(d: ProcedureDefinition): { skill: string; runtime: string } {
  const front: Record<string, string> = { name: d.name, description: d.description };
  if (d.when_to_use) front.when_to_use = d.when_to_use;
  if (d.version) front.version = d.version;
  const runtime: Record<string, unknown> = {
    context: d.context,
    agent_profile: d.agent_profile,
    allowed_tools: d.allowed_tools,
    blocked_tools: d.blocked_tools,
  };
  for (const k of ['provider', 'model', 'fallback_model'] as const) if (d[k]) runtime[k] = d[k];
  return { skill: `---\n${toYaml(front)}---\n\n${d.instructions}\n`, runtime: toYaml(runtime) };
}
