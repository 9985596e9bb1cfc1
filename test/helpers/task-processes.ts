// Live (non-zombie) processes carrying a background shell task's environment marker (Linux /proc):
// what tests check to know a task's tree is still running or was really killed.
import { readdirSync, readFileSync } from 'node:fs';

export function taskProcesses(taskId: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(`KHEISH_TASK_ID=${taskId}`))
        found.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}
