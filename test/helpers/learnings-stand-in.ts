// A stand-in for the learnings feature (issue 19, built in parallel) in an in-process daemon: the
// two things promoted skills ask of it (a learning by id; a listener run inside the transaction
// that revokes or supersedes one), over records the test seeds. It is added to the daemon's
// feature list under the real feature's name; tests that seed through the real learnings HTTP API
// live in test/conformance/api-collab-learning-skills.test.ts.
import type { FeatureModule } from '../../src/features/feature.ts';
import type {
  LearningEndedListener,
  LearningSource,
  SourceLearning,
} from '../../src/features/learning-skills/learning-source.ts';
import type { Store } from '../../src/store/store.ts';

export class StandInLearnings implements LearningSource {
  readonly records = new Map<string, SourceLearning>();
  private listeners: LearningEndedListener[] = [];
  private store: Store | null = null;

  seed(l: Partial<SourceLearning> & { learning_id: string }): SourceLearning {
    const rec: SourceLearning = {
      kind: 'procedure',
      scope: { kind: 'workspace', id: 'default' },
      status: 'active',
      publish_tier: 'active',
      content: 'Follow the reviewed procedure.',
      ...l,
    };
    this.records.set(rec.learning_id, rec);
    return rec;
  }

  async getLearning(id: string): Promise<SourceLearning | null> {
    const r = this.records.get(id);
    return r ? { ...r } : null;
  }

  onLearningEnded(listener: LearningEndedListener): void {
    this.listeners.push(listener);
  }

  /** Revokes or supersedes a learning the way the learnings feature does: listeners in its transaction. */
  async end(id: string, status: 'revoked' | 'superseded'): Promise<void> {
    const rec = this.records.get(id);
    if (!rec || !this.store) throw new Error(`no learning ${id} (or the daemon is not started)`);
    await this.store.write(async (tx) => {
      for (const l of this.listeners) await l(tx, { learning_id: id, status });
    });
    rec.status = status;
  }

  /** The feature module: a fresh daemon start binds it to its store and clears old listeners. */
  feature(): FeatureModule<StandInLearnings> {
    return {
      name: 'learnings',
      create: (k) => {
        this.store = k.store;
        this.listeners = [];
        return this;
      },
    };
  }
}
