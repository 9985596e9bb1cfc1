// Creates a named pipe with the system's mkfifo (Node has no API for it).
import { execFileSync } from 'node:child_process';

export async function mkfifo(path: string): Promise<void> {
  execFileSync('mkfifo', [path]);
}
