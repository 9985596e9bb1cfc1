// Where a promoted procedure's child runs its tools (decision 537): the learning-skills feature
// decorates the engine's workspaceRootFor seam. A run whose session is a child agent spawned by a
// use_skill call this feature prepared (its worktree row, written before the spawn) is rooted in
// that worktree; every other run keeps the daemon's workspace. The row survives restarts, so a
// child resumed after a crash is rooted there again.
import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import type { Logger } from 'pino';
import { getAgentBySession } from '../../store/repos/agents.ts';
import {
  getLearningSkillWorktree,
  type LearningSkillWorktreeRow,
} from '../../store/repos/learning-skills.ts';
import type { RunRow } from '../../store/repos/runs.ts';
import type { Store } from '../../store/store.ts';
import { ensureWorktree, WORKTREES_DIR } from './worktree.ts';

const CACHE_LIMIT = 10_000;

const within = (base: string, p: string) => {
  const rel = relative(base, p);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
};

/**
 * The absolute worktree of a stored relative path, or why it is refused: it must name a directory
 * under `<workspace>/.kheish-procedural-worktrees/`, lexically and once links are resolved (a
 * worktree or the worktrees directory swapped for a link out of the workspace is refused).
 */
export function confinedWorktree(
  workspace: string,
  stored: string,
): { path: string } | { why: string; missing?: true } {
  const base = resolve(workspace, WORKTREES_DIR);
  const path = resolve(workspace, stored);
  if (isAbsolute(stored) || !within(base, path)) return { why: `${stored} is not under ${WORKTREES_DIR}/` };
  try {
    const real = realpathSync(path);
    const realBase = resolve(realpathSync(workspace), WORKTREES_DIR);
    if (realpathSync(base) !== realBase || !within(realBase, real))
      return { why: `${stored} resolves outside ${WORKTREES_DIR}/` };
    return { path: real };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      why: `${stored} cannot be opened (${code ?? err})`,
      ...(code === 'ENOENT' ? { missing: true } : {}),
    };
  }
}

export class ProcedureRoots {
  /**
   * session id → the child's worktree row, or null for a session that is not a procedure's child.
   * The row is cached, not the checked path: confinement is checked again at every load.
   */
  private readonly cache = new Map<string, LearningSkillWorktreeRow | null>();
  private readonly store: Store;
  private readonly workspace: string;
  private readonly log: Logger;

  constructor(store: Store, workspace: string, log: Logger) {
    this.store = store;
    this.workspace = workspace;
    this.log = log;
  }

  /**
   * The run's worktree; null when the run is not a procedure's child (the daemon's workspace
   * applies). Throws when it is one but its worktree cannot be used: the run never falls back to
   * the workspace its procedure was kept out of.
   */
  async rootOf(run: RunRow): Promise<string | null> {
    const row = await this.rowOf(run.session_id);
    if (!row) return null;
    let found = confinedWorktree(this.workspace, row.worktree_path);
    if ('missing' in found) {
      // Removed while the child waited (an operator cleaned up): made again, as use_skill would.
      const path = resolve(this.workspace, row.worktree_path);
      await ensureWorktree(this.workspace, path, AbortSignal.timeout(60_000)).catch(() => undefined);
      found = confinedWorktree(this.workspace, row.worktree_path);
    }
    if ('why' in found) {
      this.log.warn(
        { run_id: run.run_id, skill: row.skill_name },
        `procedure worktree refused: ${found.why}`,
      );
      throw new Error(`the worktree of promoted skill \`${row.skill_name}\` cannot be used: ${found.why}`);
    }
    return found.path;
  }

  private async rowOf(sessionId: string): Promise<LearningSkillWorktreeRow | null> {
    const cached = this.cache.get(sessionId);
    if (cached !== undefined) return cached;
    const agent = await getAgentBySession(this.store.db, sessionId);
    const row = agent?.spawn_request_id
      ? await getLearningSkillWorktree(this.store.db, agent.spawn_request_id)
      : undefined;
    // A child agent's row is written with its session and the worktree row before the spawn:
    // a session without both now never gets them, so "not ours" is cached too.
    const ours = row && row.parent_run_id === agent?.spawned_by_run_id ? row : null;
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(sessionId, ours);
    return ours;
  }
}
