// What promoted skills need from the learnings feature (api-collab §4.6): a learning by id (its
// kind, scope, status and tier gate promotion and rollback) and word when one is revoked or
// superseded (its promoted skill is revoked with it). The learnings feature's service provides
// both; it is looked up lazily by name, so this feature builds without it (promotion then finds
// no learning: 404).

import type { Store, WriteTx } from '../../store/store.ts';
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
  /**
   * The learning, or null. Never called inside one of our write transactions: a source reading
   * through the store's own handle would wait for that transaction (one SQLite connection).
   */
  getLearning(learningId: string): Promise<SourceLearning | null>;
  onLearningEnded(listener: LearningEndedListener): void;
}

/** True when a learning may back a mounted skill (promotion, rollback, startup check). */
export const learningIsLive = (l: SourceLearning | null): boolean =>
  l !== null && l.status === 'active' && l.publish_tier === 'active';

/**
 * The learnings feature's shape as it exports it (`k.use('learnings').learnings`): `find(id)` and
 * `onRetired(listener)`, the listener told after the revoke or supersede committed.
 */
interface LearningsFeatureShape {
  learnings?: {
    find(id: string): Promise<SourceLearning | null>;
    onRetired(listener: (learning: SourceLearning, change: 'revoked' | 'superseded') => unknown): void;
  };
}

export type SourceResolution = { source: LearningSource | null; problem: string | null };

/**
 * The learnings feature as a LearningSource: its lifecycle adapted (its post-commit notice becomes
 * a transaction of ours). No feature: null.
 */
export function resolveLearningSource(use: <S>(name: string) => S, store: Store): SourceResolution {
  let svc: unknown;
  try {
    svc = use<unknown>(LEARNINGS_FEATURE);
  } catch {
    return { source: null, problem: null };
  }
  const lifecycle = (svc as LearningsFeatureShape)?.learnings;
  if (typeof lifecycle?.find === 'function' && typeof lifecycle.onRetired === 'function')
    return {
      source: {
        getLearning: (id) => lifecycle.find(id),
        onLearningEnded: (listener) =>
          lifecycle.onRetired((learning, change) =>
            store.write((tx) => listener(tx, { learning_id: learning.learning_id, status: change })),
          ),
      },
      problem: null,
    };
  return {
    source: null,
    problem: 'the learnings feature offers no learnings.find/onRetired',
  };
}
