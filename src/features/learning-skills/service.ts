// Promoted procedural skills (api-collab §4.6, concepts §4.10): promotion of a reviewed workspace
// procedure into a daemon-owned fork skill, its evidence-bound rollout, revoke and rollback. The
// durable record is the authority: every change commits first (with its event), then the skill
// file is rewritten and the catalog mount follows, so a crash in between is repaired at startup.
import type { Logger } from 'pino';
import { errors } from '../../errors/daemon-error.ts';
import type { EventLog } from '../../store/event-log.ts';
import { outputsOfRun } from '../../store/repos/journal.ts';
import {
  getLearningSkill,
  insertLearningSkill,
  type LearningSkillRow,
  listLearningSkills,
  updateLearningSkill,
} from '../../store/repos/learning-skills.ts';
import { getRun, isTerminal } from '../../store/repos/runs.ts';
import type { Store, WriteTx } from '../../store/store.ts';
import { skillDigest } from '../skills/port.ts';
import { fingerprintOf } from './definition.ts';
import { learningNotFound, learningSkillNotFound, notPromotable, rolloutConflict } from './errors.ts';
import { type LearningSource, learningIsLive } from './learning-source.ts';
import type { MountedProcedures } from './mount.ts';
import { columnsOf, stateOf, viewOf } from './record.ts';
import type { RepairReport } from './repair.ts';
import { carriesDefinition, checkPromotable, checkSkillName, definitionOf, refuseSecret } from './request.ts';
import {
  freshRollout,
  gateProblem,
  nextOnPromote,
  pushEvent,
  pushEvidence,
  type RolloutState,
  snapshotActive,
} from './rollout.ts';
import type {
  LearningSkillStatus,
  LearningSkillView,
  LifecycleEvent,
  PromoteSkillRequest,
  RolloutResultRequest,
} from './schema.ts';
import type { DaemonSkillRoot } from './skill-root.ts';

export interface LearningSkillsDeps {
  store: Store;
  log: Logger;
  events: EventLog | null;
  root: DaemonSkillRoot;
  mounted: MountedProcedures;
  /** The learnings feature (null when the daemon has none: nothing can be promoted). */
  learnings: () => LearningSource | null;
  /** True when a discovered (non-daemon) skill already has this name. */
  discovered: (name: string) => boolean;
}

type Action = LifecycleEvent['action'];

export class LearningSkillsService {
  readonly deps: LearningSkillsDeps;
  /** What the last startup repair did (GET /v1/status `learning_skills`). */
  lastRepair: RepairReport | null = null;

  constructor(deps: LearningSkillsDeps) {
    this.deps = deps;
  }

  private get db() {
    return this.deps.store.db;
  }

  view(r: LearningSkillRow): LearningSkillView {
    return viewOf(r, { skill_path: this.deps.root.fileOf(r.skill_name), skill_root: this.deps.root.path });
  }

  async list(q: { source_learning_id?: string; status?: LearningSkillStatus }): Promise<LearningSkillView[]> {
    return (await listLearningSkills(this.db, q)).map((r) => this.view(r));
  }

  async get(name: string): Promise<LearningSkillView> {
    const r = await getLearningSkill(this.db, name);
    if (!r) throw learningSkillNotFound(name);
    return this.view(r);
  }

  /** Read before our transaction (see LearningSource); `recheck` closes the window after it. */
  private async learning(id: string) {
    const l = (await this.deps.learnings()?.getLearning(id)) ?? null;
    if (!l) throw learningNotFound(id);
    return l;
  }

  /**
   * Writes a state, its lifecycle entry and the `learning_skill_updated` event in `tx`; the file
   * and the mount follow after the commit.
   */
  private async save(
    tx: WriteTx,
    row: LearningSkillRow | null,
    s: RolloutState,
    e: { action: Action; from: LearningSkillStatus | null; note?: string; run_id?: string },
    extra: { source_learning_id: string; revoked_reason?: string | null },
  ): Promise<LearningSkillRow> {
    pushEvent(s, {
      at_ms: tx.now,
      action: e.action,
      from_status: e.from,
      to_status: s.status,
      definition_fingerprint: s.definition_fingerprint,
      ...(e.note ? { note: e.note } : {}),
      ...(e.run_id ? { run_id: e.run_id } : {}),
    });
    const name = s.definition.name;
    const next: LearningSkillRow = {
      skill_name: name,
      source_learning_id: extra.source_learning_id,
      ...columnsOf(s),
      revoked_reason: s.status === 'revoked' ? (extra.revoked_reason ?? row?.revoked_reason ?? null) : null,
      created_at_ms: row ? Number(row.created_at_ms) : tx.now,
      updated_at_ms: tx.now,
    };
    if (row) await updateLearningSkill(tx.db, name, next);
    else await insertLearningSkill(tx.db, next);
    await this.deps.events?.append(tx, [
      {
        name: 'learning_skill_updated',
        data: {
          skill_name: name,
          source_learning_id: extra.source_learning_id,
          action: e.action,
          status: s.status,
          previous_status: e.from,
          definition_fingerprint: s.definition_fingerprint,
          rollout_generation: s.rollout_generation,
          canary_success_count: s.canary_success_count,
          canary_failure_count: s.canary_failure_count,
          ...(e.run_id ? { run_id: e.run_id } : {}),
        },
      },
    ]);
    tx.afterCommit(() => this.sync(next));
    return next;
  }

  /** Files and mount after a committed change (the record wins; startup repairs what this misses). */
  sync(r: LearningSkillRow): void {
    const { root, mounted } = this.deps;
    if (r.status === 'revoked') {
      mounted.unmount(r.skill_name);
      root.remove(r.skill_name);
      return;
    }
    const loaded = root.load(r.skill_name);
    if (!loaded.ok || loaded.fingerprint !== r.definition_fingerprint) root.write(stateOf(r).definition);
    if (r.status === 'active') mounted.mount(r.skill_name, r.definition_fingerprint);
    else mounted.unmount(r.skill_name);
  }

  /**
   * Files and mount from the stored record (after another replica's change). Read in the writer
   * queue and applied after its commit, so it is ordered with this replica's own changes and an
   * older read never overwrites a newer sync.
   */
  async refresh(name: string): Promise<void> {
    await this.deps.store.write(async (tx) => {
      const r = await getLearningSkill(tx.db, name);
      if (r) tx.afterCommit(() => this.sync(r));
    });
  }

  async promote(learningId: string, body: PromoteSkillRequest): Promise<LearningSkillView> {
    const to = body.status ?? 'draft';
    const learning = await this.learning(learningId);
    checkPromotable(learning);
    const row = await this.deps.store.write(async (tx) => {
      const existing = await getLearningSkill(tx.db, checkSkillName(body.skill_name));
      // Only a name and a status: the rollout of the current definition moves on (decision 524).
      const def =
        existing && !carriesDefinition(body)
          ? stateOf(existing).definition
          : definitionOf(body, learning.content ?? '');
      const fingerprint = fingerprintOf(def);
      if (!existing) {
        if (this.deps.discovered(def.name))
          throw rolloutConflict(
            `a skill named ${def.name} is already in the discovered catalog; choose another skill_name`,
          );
        if (to !== 'draft')
          throw rolloutConflict(
            to === 'active'
              ? 'a new promoted skill cannot start active; it starts draft and is rolled out with evidence'
              : `a new promoted skill starts draft; ${to} needs rollout evidence first`,
          );
        const s: RolloutState = {
          status: 'draft',
          ...freshRollout(def, fingerprint, 1),
          lifecycle_events: [],
          active_snapshots: [],
        };
        return this.save(tx, null, s, { action: 'promoted', from: null }, { source_learning_id: learningId });
      }
      if (existing.source_learning_id !== learningId)
        throw rolloutConflict(
          `skill ${def.name} was promoted from learning ${existing.source_learning_id}; a record is never rebound to another learning`,
        );
      const before = stateOf(existing);
      if (before.status === to && before.definition_fingerprint === fingerprint) return existing;
      const { state, newRollout } = nextOnPromote(before, def, fingerprint, to);
      if (state.status === 'active') snapshotActive(state, tx.now);
      return this.save(
        tx,
        existing,
        state,
        { action: newRollout ? 'promoted' : 'status_changed', from: before.status },
        { source_learning_id: learningId },
      );
    });
    return this.view(await this.recheck(row));
  }

  /**
   * A learning source that reads outside our transaction (the learnings feature's own reads) can
   * see a learning that is revoked just before this change commits, after its notice already ran:
   * looked at again once committed, such a skill is revoked now rather than at the next start.
   */
  private async recheck(row: LearningSkillRow): Promise<LearningSkillRow> {
    if (row.status === 'revoked') return row;
    const l = (await this.deps.learnings()?.getLearning(row.source_learning_id)) ?? null;
    if (learningIsLive(l)) return row;
    return this.deps.store.write(async (tx) => {
      const fresh = await getLearningSkill(tx.db, row.skill_name);
      if (!fresh) return row;
      return this.revokeRow(tx, fresh, `source learning ${row.source_learning_id} is ${l?.status ?? 'gone'}`);
    });
  }

  async rolloutResult(name: string, body: RolloutResultRequest): Promise<LearningSkillView> {
    const row = await this.deps.store.write(async (tx) => {
      const existing = await getLearningSkill(tx.db, name);
      if (!existing) throw learningSkillNotFound(name);
      const s = stateOf(existing);
      if (body.kind === 'verification' && s.status !== 'draft')
        throw rolloutConflict(
          `verification evidence is accepted while the skill is draft; it is ${s.status}`,
        );
      if (body.kind === 'canary' && s.status !== 'canary')
        throw rolloutConflict(`canary evidence needs status canary; the skill is ${s.status}`);
      if (body.definition_fingerprint && body.definition_fingerprint !== s.definition_fingerprint)
        throw rolloutConflict(
          `definition_fingerprint ${body.definition_fingerprint} is not the current one (${s.definition_fingerprint})`,
        );
      // The same run recorded again for this rollout is the same evidence (a retried request).
      const again = s.evidence_refs.find(
        (e) =>
          e.run_id === body.run_id && e.kind === body.kind && e.rollout_generation === s.rollout_generation,
      );
      if (again) return existing;
      const run = await getRun(tx.db, body.run_id);
      if (!run) throw errors.runNotFound(body.run_id);
      if (!isTerminal(run.status))
        throw rolloutConflict(`run ${body.run_id} is ${run.status}; evidence needs a finished run`);
      const last = (await outputsOfRun(tx.db, body.run_id)).at(-1)?.content;
      const found = typeof last === 'string' && last.includes(body.expected_output_contains);
      const ok = run.status === 'completed' && found;
      const note = ok
        ? `run completed with the expected output; definition ${s.definition_fingerprint}`
        : run.status !== 'completed'
          ? `run ended ${run.status}`
          : 'the run’s latest output does not contain expected_output_contains';
      if (!ok && body.kind === 'verification')
        throw rolloutConflict(`verification evidence refused: ${note}`);
      pushEvidence(s, {
        kind: body.kind,
        run_id: body.run_id,
        session_id: run.session_id,
        outcome: ok ? 'succeeded' : 'failed',
        run_status: run.status,
        expected_output_contains: body.expected_output_contains,
        definition_fingerprint: s.definition_fingerprint,
        rollout_generation: s.rollout_generation,
        recorded_at_ms: tx.now,
        note,
      });
      if (ok) {
        s.successful_run_count += 1;
        if (!s.evidence_session_ids.includes(run.session_id)) s.evidence_session_ids.push(run.session_id);
      }
      if (body.kind === 'verification') {
        s.verification_status = 'verified';
        s.real_daemon_verified = true;
        s.verifier_run_ids = [...s.verifier_run_ids, body.run_id];
        s.last_verified_workspace_digest = this.fileDigest(name);
      } else if (ok) s.canary_success_count += 1;
      else s.canary_failure_count += 1;
      return this.save(
        tx,
        existing,
        s,
        { action: 'rollout_result', from: s.status, note: `${body.kind}: ${note}`, run_id: body.run_id },
        { source_learning_id: existing.source_learning_id },
      );
    });
    return this.view(row);
  }

  /** The digest of the skill directory the evidence ran against (decision 526). */
  private fileDigest(name: string): string | null {
    try {
      return skillDigest(this.deps.root.dirOf(name));
    } catch {
      return null;
    }
  }

  async revoke(name: string, reason: string | null | undefined): Promise<LearningSkillView> {
    refuseSecret('reason', reason);
    const row = await this.deps.store.write(async (tx) => {
      const existing = await getLearningSkill(tx.db, name);
      if (!existing) throw learningSkillNotFound(name);
      return this.revokeRow(tx, existing, reason?.trim() || 'revoked by the operator');
    });
    return this.view(row);
  }

  private async revokeRow(tx: WriteTx, existing: LearningSkillRow, reason: string) {
    if (existing.status === 'revoked') return existing;
    const s = stateOf(existing);
    const from = s.status;
    s.status = 'revoked';
    return this.save(
      tx,
      existing,
      s,
      { action: 'revoked', from, note: reason },
      { source_learning_id: existing.source_learning_id, revoked_reason: reason },
    );
  }

  async rollback(name: string, reason: string | null | undefined): Promise<LearningSkillView> {
    refuseSecret('reason', reason);
    const current = await getLearningSkill(this.db, name);
    if (!current) throw learningSkillNotFound(name);
    const learning = (await this.deps.learnings()?.getLearning(current.source_learning_id)) ?? null;
    const row = await this.deps.store.write(async (tx) => {
      const existing = await getLearningSkill(tx.db, name);
      if (!existing) throw learningSkillNotFound(name);
      const s = stateOf(existing);
      const snap = s.active_snapshots.at(-1);
      if (!snap)
        throw rolloutConflict(`skill ${name} has never been active; there is nothing to roll back to`);
      if (!learningIsLive(learning))
        throw notPromotable(
          `source learning ${existing.source_learning_id} is no longer active with the active tier; the skill cannot be remounted`,
        );
      const from = s.status;
      const { activated_at_ms: _at, ...rollout } = snap;
      const next: RolloutState = { ...s, ...rollout, status: 'active' };
      const problem = gateProblem(next, 'active');
      if (problem) throw rolloutConflict(`the retained active snapshot does not qualify: ${problem}`);
      return this.save(
        tx,
        existing,
        next,
        { action: 'rolled_back', from, note: reason?.trim() || 'rolled back by the operator' },
        { source_learning_id: existing.source_learning_id },
      );
    });
    return this.view(await this.recheck(row));
  }

  /** Startup repair: the record is rewritten to disk (after commit) with a `repaired` audit entry. */
  async markRepaired(name: string, why: string): Promise<void> {
    await this.deps.store.write(async (tx) => {
      const existing = await getLearningSkill(tx.db, name);
      if (!existing || existing.status === 'revoked') return;
      const s = stateOf(existing);
      await this.save(
        tx,
        existing,
        s,
        { action: 'repaired', from: s.status, note: why },
        { source_learning_id: existing.source_learning_id },
      );
    });
  }

  /** The learnings feature ended a learning: its promoted skills are revoked in the same transaction. */
  async learningEnded(tx: WriteTx, ended: { learning_id: string; status: string }): Promise<void> {
    for (const r of await listLearningSkills(tx.db, { source_learning_id: ended.learning_id }))
      await this.revokeRow(tx, r, `source learning ${ended.learning_id} was ${ended.status}`);
  }
}
