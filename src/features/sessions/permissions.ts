// Session-scoped permission rules (ops-runtime §6.3) and the permission audit log (§6.4).
// Rules here are the session layer evaluated before the default set; "remember for session" on an
// approval writes to the same list. Changes apply to the next tool batch of the session.
import type { Engine } from '../../engine/engine.ts';
import { DaemonError, errors } from '../../errors/daemon-error.ts';
import {
  countPermissionAudits,
  type PermissionAuditRecord,
  permissionAuditsOfSession,
} from '../../store/repos/permission-audits.ts';
import { getSession } from '../../store/repos/sessions.ts';
import type { Executor } from '../../store/schema.ts';
import { DEFAULT_RULES, type PermissionRule } from '../../tools/permissions.ts';

/** Exact tool name (`bash`, `bash:network`), a prefix wildcard (`mcp__linear__*`), or `*`. */
const PATTERN = /^(\*|[A-Za-z0-9_.:-]+\*?)$/;
const MAX_RULES = 256;

export interface RuleInput {
  pattern: string;
  decision: 'allow' | 'ask' | 'deny';
}

export interface SessionPermissionRulesView {
  session_id: string;
  rules: PermissionRule[];
  default_rules: PermissionRule[];
}

export class SessionPermissionsService {
  private readonly engine: Engine;
  constructor(engine: Engine) {
    this.engine = engine;
  }

  async rules(sessionId: string): Promise<SessionPermissionRulesView> {
    return view(sessionId, await rulesOf(this.engine.store.db, sessionId));
  }

  /** Replaces the whole session rule list (operator rules and remembered approvals alike). */
  replace(sessionId: string, input: RuleInput[]): Promise<SessionPermissionRulesView> {
    const next = normalize(input);
    return this.update(sessionId, () => next);
  }

  /** Adds one rule; a rule with the same pattern is replaced in place. */
  add(sessionId: string, input: RuleInput): Promise<SessionPermissionRulesView> {
    const [rule] = normalize([input]) as [PermissionRule];
    return this.update(sessionId, (current) => {
      const i = current.findIndex((r) => r.pattern === rule.pattern);
      if (i >= 0) return current.map((r, j) => (j === i ? rule : r));
      if (current.length >= MAX_RULES) throw tooMany();
      return [...current, rule];
    });
  }

  /** Removes the rule with this pattern, or all rules when `pattern` is undefined. */
  remove(sessionId: string, pattern?: string): Promise<SessionPermissionRulesView> {
    return this.update(sessionId, (current) => {
      if (pattern === undefined) return [];
      if (!current.some((r) => r.pattern === pattern))
        throw new DaemonError(
          404,
          'sessions',
          'permission_rule_not_found',
          `session ${sessionId} has no rule for \`${pattern}\``,
        );
      return current.filter((r) => r.pattern !== pattern);
    });
  }

  async audits(
    sessionId: string,
    page: { after?: string; limit?: number },
  ): Promise<{ items: Array<PermissionAuditRecord & { audit_id: number }>; total: number }> {
    const db = this.engine.store.db;
    if (!(await getSession(db, sessionId))) throw errors.sessionNotFound(sessionId);
    const afterId = page.after === undefined ? undefined : Number(page.after);
    if (afterId !== undefined && !Number.isSafeInteger(afterId))
      throw new DaemonError(400, 'pagination', 'invalid_cursor', 'cursor is not one this daemon issued');
    const rows = await permissionAuditsOfSession(db, sessionId, { afterId, limit: page.limit });
    return {
      items: rows.map((r) => ({ audit_id: r.id, ...r.record })),
      total: await countPermissionAudits(db, sessionId),
    };
  }

  private update(
    sessionId: string,
    change: (current: PermissionRule[]) => PermissionRule[],
  ): Promise<SessionPermissionRulesView> {
    return this.engine.store.write(async (tx) => {
      const next = change(await rulesOf(tx.db, sessionId));
      await tx.db
        .updateTable('sessions')
        .set({ permission_rules: next.length ? JSON.stringify(next) : null, updated_at_ms: tx.now })
        .where('session_id', '=', sessionId)
        .execute();
      return view(sessionId, next);
    });
  }
}

async function rulesOf(db: Executor, sessionId: string): Promise<PermissionRule[]> {
  const session = await getSession(db, sessionId);
  if (!session) throw errors.sessionNotFound(sessionId);
  return session.permission_rules ? (JSON.parse(session.permission_rules) as PermissionRule[]) : [];
}

function view(sessionId: string, rules: PermissionRule[]): SessionPermissionRulesView {
  return { session_id: sessionId, rules, default_rules: DEFAULT_RULES };
}

function normalize(input: RuleInput[]): PermissionRule[] {
  if (input.length > MAX_RULES) throw tooMany();
  const seen = new Set<string>();
  return input.map((r) => {
    const pattern = r.pattern.trim();
    if (!PATTERN.test(pattern))
      throw new DaemonError(
        400,
        'sessions',
        'invalid_permission_rule',
        `\`${r.pattern}\` is not a rule pattern: use a tool name (bash), a prefix ending in * (mcp__linear__*), or *`,
      );
    if (seen.has(pattern))
      throw new DaemonError(400, 'sessions', 'invalid_permission_rule', `\`${pattern}\` appears twice`);
    seen.add(pattern);
    return { pattern, decision: r.decision, scope: 'session', origin: 'operator' };
  });
}

function tooMany(): DaemonError {
  return new DaemonError(
    400,
    'sessions',
    'invalid_permission_rule',
    `a session holds at most ${MAX_RULES} rules`,
  );
}
