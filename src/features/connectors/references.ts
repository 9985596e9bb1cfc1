// What still points at a connector (api-collab §6.2 delete guards): reply targets of other
// connectors and stored schedule payloads. A target names a connector either as a raw
// ReplyHandle whose plugin is the kind and whose JSON address has `connector: <name>`, or as a
// structured request `{type: <kind>, connector: <name>}`.
import { listSchedules } from '../../store/repos/schedules.ts';
import type { Executor } from '../../store/schema.ts';

export function namesConnector(value: unknown, kind: string, name: string, depth = 0): boolean {
  if (depth > 12 || value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some((v) => namesConnector(v, kind, name, depth + 1));
  const o = value as Record<string, unknown>;
  if (o.type === kind && o.connector === name) return true;
  if (o.plugin === kind && typeof o.address === 'string') {
    try {
      const a = JSON.parse(o.address) as unknown;
      if (a && typeof a === 'object' && (a as Record<string, unknown>).connector === name) return true;
    } catch {
      // A raw address (a URL) names no connector.
    }
  }
  return Object.values(o).some((v) => namesConnector(v, kind, name, depth + 1));
}

/**
 * Ids of stored schedules whose request names the connector. Schedules are never deleted, only
 * cancelled or completed: those will not fire again, so they do not hold the connector (decision 275).
 */
export async function schedulesNaming(db: Executor, kind: string, name: string): Promise<string[]> {
  const out: string[] = [];
  for (const s of (await listSchedules(db, {})).rows) {
    if (s.status === 'canceled' || s.status === 'completed') continue;
    try {
      if (namesConnector(JSON.parse(s.request), kind, name)) out.push(s.schedule_id);
    } catch {
      // Unparseable requests are the schedules feature's problem, not a reference.
    }
  }
  return out;
}
