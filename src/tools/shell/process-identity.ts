// Who a process is, beyond its pid: pids are reused, so a process group recorded by a daemon that
// died is only signalled after proving it is still the one we started (Linux /proc; elsewhere
// nothing is ever matched, so nothing is ever killed by mistake).
import { readdirSync, readFileSync } from 'node:fs';

/** The environment variable every background shell task carries: its task id. */
export const TASK_ENV_MARKER = 'KHEISH_TASK_ID';

export interface ProcessIdentity {
  pid: number;
  /** Start time in clock ticks since boot (/proc/<pid>/stat field 22). */
  start_ticks: number;
  /** The kernel boot id: a start time means nothing across a reboot. */
  boot_id: string;
}

interface StatFields {
  state: string;
  pgrp: number;
  start_ticks: number;
}

function readStat(pid: number): StatFields | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Fields after the parenthesised command name start at field 3 (state).
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0]!, pgrp: Number(rest[2]), start_ticks: Number(rest[19]) };
  } catch {
    return null;
  }
}

export function bootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return null;
  }
}

/** The identity of a live process, or null (gone, or no procfs). */
export function identify(pid: number): ProcessIdentity | null {
  const stat = readStat(pid);
  const boot = bootId();
  if (!stat || boot === null) return null;
  return { pid, start_ticks: stat.start_ticks, boot_id: boot };
}

/** Live (not zombie) members of a process group, by scanning /proc. */
export function groupMembers(pgid: number, limit = 64): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const found: number[] = [];
  for (const entry of entries) {
    if (entry.charCodeAt(0) > 57) continue;
    const pid = Number(entry);
    const stat = readStat(pid);
    if (stat && stat.pgrp === pgid && stat.state !== 'Z' && stat.state !== 'X') {
      found.push(pid);
      if (found.length >= limit) break;
    }
  }
  return found;
}

function carriesMarker(pid: number, taskId: string): boolean {
  try {
    const env = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
    return env.includes(`${TASK_ENV_MARKER}=${taskId}`);
  } catch {
    return false;
  }
}

/**
 * Whether the recorded group is still ours: the leader with the same start time on the same boot,
 * or (leader gone) a member that carries this task's environment marker.
 */
export function groupIsOurs(
  recorded: { pgid: number; start_ticks: number; boot_id: string },
  taskId: string,
): { members: number[]; matched: boolean } {
  const members = groupMembers(recorded.pgid);
  if (members.length === 0) return { members, matched: false };
  if (bootId() !== recorded.boot_id) return { members, matched: false };
  const leader = readStat(recorded.pgid);
  if (leader && leader.state !== 'Z' && leader.pgrp === recorded.pgid)
    return { members, matched: leader.start_ticks === recorded.start_ticks };
  return { members, matched: members.some((pid) => carriesMarker(pid, taskId)) };
}

/** Live processes carrying this task's environment marker (when no group was recorded). */
export function markedProcesses(taskId: string, limit = 64): Array<{ pid: number; pgid: number }> {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const found: Array<{ pid: number; pgid: number }> = [];
  for (const entry of entries) {
    if (entry.charCodeAt(0) > 57) continue;
    const pid = Number(entry);
    if (pid === process.pid || !carriesMarker(pid, taskId)) continue;
    const stat = readStat(pid);
    if (stat && stat.state !== 'Z' && stat.state !== 'X') found.push({ pid, pgid: stat.pgrp });
    if (found.length >= limit) break;
  }
  return found;
}
