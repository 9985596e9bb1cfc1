// Errors of promoted procedural skills (api-collab §4.6: plain 400/404/409), in the learnings domain.
import { DaemonError } from '../../errors/daemon-error.ts';

export const learningNotFound = (id: string) =>
  new DaemonError(404, 'learnings', 'learning_not_found', `learning ${id} was not found`);
export const learningSkillNotFound = (name: string) =>
  new DaemonError(404, 'learnings', 'learning_skill_not_found', `promoted skill ${name} was not found`);
/** The request itself is wrong (name, context, profile, secret-looking text). */
export const invalidSkill = (detail: string) =>
  new DaemonError(400, 'learnings', 'invalid_learning_skill', detail);
/** The source learning does not qualify (kind, scope, status, tier). */
export const notPromotable = (detail: string) =>
  new DaemonError(409, 'learnings', 'learning_not_promotable', detail);
/** A status the rollout evidence does not allow, or evidence the status does not accept. */
export const rolloutConflict = (detail: string) =>
  new DaemonError(409, 'learnings', 'learning_skill_rollout_conflict', detail);
