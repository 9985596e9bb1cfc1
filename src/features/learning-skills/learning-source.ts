// What promoted skills need from the learnings feature (api-collab §4.6): a learning by id (its
// kind, scope, status and tier gate promotion and rollback) and word when one is revoked or
// superseded (its promoted skill is revoked with it). The learnings feature's service provides
// both; it is looked up lazily by name, so this feature builds without it (promotion then finds
// no learning: 404).

import type { Executor } from '../../store/schema.ts';
import type { WriteTx } from '../../store/store.ts';
import type { LearningRecord } from '../learnings/port.ts';
import { LEARNINGS_FEATURE } from '../learnings/port.ts';

export type SourceLearning = Pick<
  LearningRecord,
  'learning_id' | 'kind' | 'scope' | 'status' | 'publish_tier' | 'content'
>;

/** A learning ended (revoked or superseded); runs inside the transaction that ended it. */
export type LearningEndedListener = (
  tx: WriteTx,
  ended: { learning_id: string; status: 'revoked' | 'superseded' },
) => Promise<void>;

export interface LearningSource {
  /** The learning, read through `db` when given (a caller's open transaction). */
  getLearning(learningId: string, db?: Executor): Promise<SourceLearning | null>;
  onLearningEnded(listener: LearningEndedListener): void;
}

/** True when a learning may back a mounted skill (promotion, rollback, startup check). */
export const learningIsLive = (l: SourceLearning | null): boolean =>
  l !== null && l.status === 'active' && l.publish_tier === 'active';

/** The learnings feature's service when the daemon has it, else null. */
export function resolveLearningSource(use: <S>(name: string) => S): LearningSource | null {
  try {
    const svc = use<Partial<LearningSource>>(LEARNINGS_FEATURE);
    if (typeof svc?.getLearning === 'function' && typeof svc.onLearningEnded === 'function')
      return svc as LearningSource;
    return null;
  } catch {
    return null;
  }
}
