// Promotion requests checked and normalized (api-collab §4.6): the source learning's gates, the
// skill name's alphabet, fork + verification only, blanks normalized away, and no secret-looking
// text in anything the skill shows a model or an operator.
import { maskTokenShapes } from '../../secrets/redact-text.ts';
import { oneLine, type ProcedureDefinition } from './definition.ts';
import { invalidSkill, notPromotable } from './errors.ts';
import type { SourceLearning } from './learning-source.ts';
import type { PromoteSkillRequest } from './schema.ts';

const NAME = /^[A-Za-z0-9:_-]+$/;
/** A blank description falls back to this generic text (nothing from the learning leaks into it). */
export const DEFAULT_DESCRIPTION = 'Reviewed procedure promoted from a workspace learning.';
/** Spellings the shared masks leave alone but the reference names as secret-looking (§4.5). */
const EXTRA_SECRET =
  /\b(?:personal[\s_-]*access[\s_-]*token|x-api-key|api[\s_-]*key|client[\s_-]*secret|secret[\s_-]*token)\s*[:=]\s*\S{4,}/i;

/** True when free text looks like it carries a credential (the shared masks would change it). */
export const looksSecret = (text: string): boolean =>
  maskTokenShapes(text) !== text || EXTRA_SECRET.test(text);

/** Control characters (tab, newline and carriage return aside) would not read back from the file as written. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufeff\u2028\u2029]/;

export function refuseSecret(field: string, text: string | null | undefined): void {
  if (text && looksSecret(text))
    throw invalidSkill(`${field} looks like it contains secret material; remove it and retry`);
  if (text && CONTROL.test(text)) throw invalidSkill(`${field} contains control characters`);
}

const blankToNull = (v: string | null | undefined): string | null => {
  const t = v?.trim();
  return t ? t : null;
};

/** The source learning may be promoted: procedure, active, active tier, workspace scope. */
export function checkPromotable(l: SourceLearning): void {
  if (l.kind !== 'procedure')
    throw notPromotable(`learning ${l.learning_id} is a ${l.kind}; only procedure learnings can be promoted`);
  if (l.scope.kind !== 'workspace')
    throw notPromotable(
      `learning ${l.learning_id} has ${l.scope.kind} scope; only workspace procedures enter the daemon skill catalog`,
    );
  if (l.status !== 'active' || l.publish_tier !== 'active')
    throw notPromotable(
      `learning ${l.learning_id} is ${l.status} with publish_tier ${l.publish_tier}; promotion needs an active learning with the active tier`,
    );
}

export function checkSkillName(raw: string): string {
  if (!NAME.test(raw))
    throw invalidSkill('skill_name must be one line of ASCII letters, digits, `:`, `_` and `-`');
  return raw;
}

/** True when a promotion names any part of a definition (not just skill_name and status). */
export const carriesDefinition = (body: PromoteSkillRequest): boolean =>
  Object.entries(body).some(([k, v]) => k !== 'skill_name' && k !== 'status' && v !== undefined);

/** The canonical definition a promotion asks for (instructions default to the learning's content). */
export function definitionOf(body: PromoteSkillRequest, learningContent: string): ProcedureDefinition {
  const name = checkSkillName(body.skill_name);
  const context = blankToNull(body.context) ?? 'fork';
  if (context !== 'fork')
    throw invalidSkill(`context must be fork for a promoted procedure (got ${JSON.stringify(context)})`);
  const profile = blankToNull(body.agent_profile) ?? 'verification';
  if (profile !== 'verification')
    throw invalidSkill(
      `agent_profile must be verification for a promoted procedure (got ${JSON.stringify(profile)})`,
    );
  const description = blankToNull(body.description);
  const whenToUse = blankToNull(body.when_to_use);
  const version = blankToNull(body.version);
  // The loader reads lines back joined by `\n`: a CRLF body would read back as drift.
  const instructions = (blankToNull(body.instructions) ?? learningContent.trim()).replace(/\r\n?/g, '\n');
  refuseSecret('skill_name', name);
  refuseSecret('description', description);
  refuseSecret('when_to_use', whenToUse);
  refuseSecret('version', version);
  refuseSecret('instructions', instructions);
  if (!instructions) throw invalidSkill('instructions are empty and the learning has no content');
  return {
    name,
    description: description ? oneLine(description) : DEFAULT_DESCRIPTION,
    when_to_use: whenToUse ? oneLine(whenToUse) : null,
    version: version ? oneLine(version) : null,
    instructions,
    allowed_tools: [...(body.allowed_tools ?? [])],
    blocked_tools: [...(body.blocked_tools ?? [])],
    context: 'fork',
    agent_profile: 'verification',
    provider: blankToNull(body.provider),
    model: blankToNull(body.model),
    fallback_model: blankToNull(body.fallback_model),
  };
}
