// `kheish-daemon up`: the zero-config front door (ops-runtime §2.5). It is `serve` with onboarding
// conveniences: a master key generated once into the state root (unless one is configured), zero
// routes tolerated, the console URL printed, and a browser opened unless --no-open.
import { spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { RawServeFlags } from '../config/serve-options.ts';
import { generateMasterKeyText } from '../secrets/crypto.ts';
import { MASTER_KEY_ENV, MASTER_KEY_FILE_ENV } from '../secrets/master-key.ts';
import { addServeOptions, runServe } from './serve.ts';

export const UP_KEY_FILE = 'auth-store-master.key';

/**
 * The master key `up` uses: the configured one (env or file) when there is one, else the key file
 * in the state root, created once with mode 0600 and reused by every later `up`. Returns where the
 * key comes from; sets KHEISH_AUTH_STORE_MASTER_KEY_FILE for the daemon when it is the state root's.
 */
export function ensureUpMasterKey(
  stateRoot: string,
  env: NodeJS.ProcessEnv = process.env,
): { source: 'env' | 'file' | 'created' | 'reused'; path?: string } {
  if (env[MASTER_KEY_ENV]?.trim()) return { source: 'env' };
  if (env[MASTER_KEY_FILE_ENV]?.trim()) return { source: 'file', path: env[MASTER_KEY_FILE_ENV] };
  mkdirSync(stateRoot, { recursive: true });
  const path = resolve(join(stateRoot, UP_KEY_FILE));
  let source: 'created' | 'reused' = 'reused';
  if (!existsSync(path)) {
    try {
      // `wx`: two `up` racing on a fresh root cannot both write a key; the loser reuses the winner's.
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, `${generateMasterKeyText()}\n`);
      closeSync(fd);
      source = 'created';
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  // A key file widened by a copy or an editor is narrowed back: it unlocks every stored secret.
  if (process.platform !== 'win32') chmodSync(path, 0o600);
  env[MASTER_KEY_FILE_ENV] = path;
  return { source, path };
}

/** The platform's opener for a URL (best effort; a failure is a notice, never an error). */
export function openBrowser(url: string, notice: (line: string) => void): void {
  const [cmd, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', url]]
        : ['xdg-open', [url]];
  const fail = (why: string) => notice(`could not open a browser (${why}); open ${url} yourself`);
  try {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.on('error', (err) => fail((err as NodeJS.ErrnoException).code ?? err.message));
    child.on('exit', (code) => {
      if (code !== 0 && code !== null) fail(`${cmd} exited with ${code}`);
    });
    child.unref();
  } catch (err) {
    fail((err as Error).message);
  }
}

export function registerUp(program: Command): void {
  const up = program
    .command('up')
    .description(
      'zero-config start: generate the master key once, boot with no routes, serve the console at / and open a browser',
    );
  addServeOptions(up);
  up.option('--no-open', 'do not open a browser once the daemon is ready');
  up.action(async (flags: RawServeFlags & { open?: boolean }) => {
    const stateRoot = flags.stateRoot ?? process.env.KHEISH_STATE_ROOT ?? '.kheish-daemon';
    try {
      ensureUpMasterKey(stateRoot);
    } catch (err) {
      process.stderr.write(`kheish-daemon: cannot prepare the master key: ${(err as Error).message}\n`);
      process.exit(2);
    }
    const { open, ...serveFlags } = flags;
    await runServe({ ...serveFlags, stateRoot, allowEmptyRoutes: true }, (daemon) => {
      const url = `${daemon.url.replace(/\/+$/, '')}/`;
      process.stdout.write(`Kheish console ready at ${url}\n`);
      if (open !== false) openBrowser(url, (line) => process.stderr.write(`kheish-daemon: ${line}\n`));
    });
  });
}
