// Hook scripts for the hooks tests: small shell files in a temp dir, so each test reads like the
// hook an operator would write (cat the invocation, answer with an outcome on stdout).
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { http } from '../helpers/daemon.ts';

export function script(dir: string, name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

export const commandHook = (
  name: string,
  command: string,
  extra: Record<string, unknown> = {},
  timeout_ms = 5000,
) => ({
  name,
  executor: { type: 'command', command, timeout_ms },
  ...extra,
});

export async function setHooks(
  url: string,
  hooks: Record<string, unknown[]>,
  extra: Record<string, unknown> = {},
) {
  return http(url, 'POST', '/v1/runtime/hooks', { settings: { hooks }, ...extra });
}

export async function revision(url: string): Promise<number> {
  return (await http(url, 'GET', '/v1/runtime')).body.config.revision;
}
