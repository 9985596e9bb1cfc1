// Blocked-by bookkeeping for session tasks, as pure functions over the session's edge list
// (`task_id` waits for `blocked_by_task_id`). `blocks` is always the inverse, derived here.

export interface Edge {
  task_id: string;
  blocked_by_task_id: string;
}

/** task → its blockers, and blocker → the tasks it blocks, both sorted. */
export function indexEdges(edges: Edge[]): {
  blockedBy: Map<string, string[]>;
  blocks: Map<string, string[]>;
} {
  const blockedBy = new Map<string, string[]>();
  const blocks = new Map<string, string[]>();
  for (const e of edges) {
    blockedBy.set(e.task_id, [...(blockedBy.get(e.task_id) ?? []), e.blocked_by_task_id]);
    blocks.set(e.blocked_by_task_id, [...(blocks.get(e.blocked_by_task_id) ?? []), e.task_id]);
  }
  for (const list of [...blockedBy.values(), ...blocks.values()]) list.sort();
  return { blockedBy, blocks };
}

/**
 * If `taskId` were blocked by `blockers`, would the graph have a cycle? Returns the cycle as a
 * path `[taskId, …, taskId]`, or null. Existing edges of `taskId` are replaced, not added to.
 */
export function findCycle(edges: Edge[], taskId: string, blockers: string[]): string[] | null {
  const { blockedBy } = indexEdges(edges.filter((e) => e.task_id !== taskId));
  blockedBy.set(taskId, [...blockers]);
  // Depth-first from each new blocker along "is blocked by": reaching taskId closes a loop.
  const seen = new Set<string>();
  const walk = (node: string, path: string[]): string[] | null => {
    if (node === taskId) return [...path, node];
    if (seen.has(node)) return null;
    seen.add(node);
    for (const next of blockedBy.get(node) ?? []) {
      const found = walk(next, [...path, node]);
      if (found) return found;
    }
    return null;
  };
  for (const b of blockers) {
    const found = walk(b, [taskId]);
    if (found) return found;
  }
  return null;
}

/** The blockers that are not completed yet (a failed or cancelled blocker still blocks). */
export function openBlockers(blockers: string[], statusOf: (id: string) => string | undefined): string[] {
  return blockers.filter((b) => statusOf(b) !== 'completed');
}

/** The new blocker list of an update: a replacement, or additions and removals. */
export function nextBlockers(
  current: string[],
  change: { blocked_by?: string[]; add_blocked_by?: string[]; remove_blocked_by?: string[] },
): string[] {
  const base = change.blocked_by ?? current;
  const removed = new Set(change.remove_blocked_by ?? []);
  const out = [...base, ...(change.add_blocked_by ?? [])].filter((id) => !removed.has(id));
  return [...new Set(out)].sort();
}
