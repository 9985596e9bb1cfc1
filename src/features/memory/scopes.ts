// A session's learning scopes in resolution order (concepts §4.10): the session itself, its bound
// persona, the projects it is a member of, then the workspace (`default`).
import { personaSnapshotOf } from '../../engine/persona-snapshot.ts';
import { membershipsOfSession } from '../../store/repos/projects.ts';
import { getSession } from '../../store/repos/sessions.ts';
import type { Executor } from '../../store/schema.ts';
import type { LearningScope } from '../learnings/port.ts';

export const scopeKey = (s: LearningScope) => `${s.kind}:${s.id}`;

/**
 * Read with the caller's executor (inside the transaction that ends a run, too): project membership
 * comes from the store's project repository, the same rows the projects feature writes.
 */
export async function learningScopes(db: Executor, sessionId: string): Promise<LearningScope[]> {
  const out: LearningScope[] = [{ kind: 'session', id: sessionId }];
  const session = await getSession(db, sessionId);
  const persona = session ? (session.persona_id ?? personaSnapshotOf(session)?.persona_id ?? null) : null;
  if (persona) out.push({ kind: 'persona', id: persona });
  const projects = (await membershipsOfSession(db, sessionId)).map((m) => m.project_id);
  for (const id of [...new Set(projects)].sort()) out.push({ kind: 'project', id });
  out.push({ kind: 'workspace', id: 'default' });
  return out;
}
