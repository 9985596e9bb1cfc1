// The promoted skills the skill catalog sees (the skills feature's SkillSource seam): only records
// whose status is `active`, loaded from the daemon-owned root. use_skill asks `prepareUse` first:
// the record must still be active and the file on disk must still be the record's definition.
import { relative } from 'node:path';
import { getLearningSkill, insertLearningSkillWorktree } from '../../store/repos/learning-skills.ts';
import type { Store } from '../../store/store.ts';
import type { SkillDefinition, SkillSource } from '../skills/port.ts';
import type { DaemonSkillRoot } from './skill-root.ts';
import { ensureWorktree, worktreePathOf } from './worktree.ts';

export class MountedProcedures implements SkillSource {
  private readonly mounted = new Map<string, SkillDefinition>();
  private readonly store: Store;
  private readonly root: DaemonSkillRoot;
  private readonly workspace: string;

  constructor(store: Store, root: DaemonSkillRoot, workspace: string) {
    this.store = store;
    this.root = root;
    this.workspace = workspace;
  }

  list(): SkillDefinition[] {
    return [...this.mounted.values()];
  }

  get(name: string): SkillDefinition | undefined {
    return this.mounted.get(name);
  }

  has(name: string): boolean {
    return this.mounted.has(name);
  }

  /** Mounts the loaded file when it is the record's definition; returns why not otherwise. */
  mount(name: string, fingerprint: string): string | null {
    const loaded = this.root.load(name);
    if (!loaded.ok) {
      this.mounted.delete(name);
      return loaded.why;
    }
    if (loaded.fingerprint !== fingerprint) {
      this.mounted.delete(name);
      return 'the skill file differs from the durable record';
    }
    this.mounted.set(name, loaded.skill);
    return null;
  }

  unmount(name: string): void {
    this.mounted.delete(name);
  }

  async prepareUse(
    skill: SkillDefinition,
    call: { run_id: string; tool_call_id: string; signal?: AbortSignal },
  ) {
    const row = await getLearningSkill(this.store.db, skill.name);
    if (row?.status !== 'active') {
      this.mounted.delete(skill.name);
      throw new Error(`promoted skill \`${skill.name}\` is no longer active; call list_skills`);
    }
    const loaded = this.root.load(skill.name);
    const why = !loaded.ok
      ? loaded.why
      : loaded.fingerprint !== row.definition_fingerprint || loaded.skill.digest !== skill.digest
        ? 'the skill file differs from the durable record'
        : null;
    if (why)
      throw new Error(
        `promoted skill \`${skill.name}\` was refused: ${why}; the daemon rewrites it from the record at its next start`,
      );
    const path = worktreePathOf(this.workspace, skill.name, call.run_id, call.tool_call_id);
    const made = await ensureWorktree(
      this.workspace,
      path,
      AbortSignal.any([call.signal ?? new AbortController().signal, AbortSignal.timeout(60_000)]),
    );
    // Recorded before the skills feature spawns the child (same spawn request id as its fork):
    // the child's runs are rooted here, also when resumed after a restart (decision 537).
    await this.store.write((tx) =>
      insertLearningSkillWorktree(tx.db, {
        spawn_request_id: `skill:${call.run_id}:${call.tool_call_id}`,
        parent_run_id: call.run_id,
        tool_call_id: call.tool_call_id,
        skill_name: skill.name,
        worktree_path: relative(this.workspace, made.path),
        kind: made.kind,
        created_at_ms: tx.now,
      }),
    );
    return { worktree_path: made.path };
  }
}
