// The console tests need console/dist: `npm ci` builds it (the `prepare` script); a checkout that
// skipped that builds it here once, so the tests never run against a stale or missing bundle.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

export function ensureConsoleBuilt(): void {
  if (existsSync(join(ROOT, 'console/dist/index.html'))) return;
  execFileSync('npm', ['run', 'build:console'], { cwd: ROOT, stdio: 'inherit' });
}
