// `secrets` (alias `secret`): generate, set, get, list, delete (ops-runtime §2.8). Each command goes
// through the daemon's API, or with --offline opens a stopped daemon's state root directly: the
// one place a client command touches the store, so those modules are loaded only then.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import type { AuthSlotRecord } from '../sdk/types.ts';
import type { SecretStore } from '../secrets/secret-store.ts';
import { EXIT, UsageError } from './errors.ts';
import { keyValues, table, time } from './format.ts';
import { openSecretsOffline } from './offline-store.ts';
import { nonEmpty } from './parse.ts';
import type { CliRuntime } from './runtime.ts';
import { DEFAULT_STATE_ROOT } from './state-root-flags.ts';

export interface StoreFlags {
  offline?: boolean;
  stateRoot?: string;
  databaseUrl?: string;
}

interface SetFlags extends StoreFlags, ValueFlags {
  provider: string;
  mode?: string;
  organization?: string;
  project?: string;
}

/** What both the daemon's answer and the offline store return. */
interface SlotView {
  slot_id: string;
  provider: string;
  mode: string;
  summary: string;
  updated_at_ms: number;
  details?: Record<string, unknown>;
}

/**
 * Slot providers, plus every route driver name so that `--provider <driver>` works for any route
 * (doctor and start-up hints print the driver). `openai_compatible` servers (Ollama, vLLM, ...)
 * take a plain bearer key: their slots are stored as generic API keys.
 */
const CLI_PROVIDERS = [
  'generic',
  'anthropic',
  'google',
  'openai',
  'open_ai',
  'openrouter',
  'xai',
  'openai_compatible',
];
const SLOT_PROVIDER: Record<string, string> = { openai: 'open_ai', openai_compatible: 'generic' };

export function registerSecrets(program: Command, rt: CliRuntime): void {
  const secrets = program
    .command('secrets')
    .alias('secret')
    .description('manage encrypted secret slots (auth_ref targets); values are write-only');

  secrets
    .command('generate')
    .description('print a new auth-store master key (base64 of 32 random bytes); needs no daemon')
    .action(async () => {
      const { generateMasterKeyText } = await import('../secrets/crypto.ts');
      // One line whatever --output says: scripts do KEY="$(kheish-daemon secrets generate)".
      rt.io.stdout(`${generateMasterKeyText()}\n`);
    });

  storeOptions(
    secrets
      .command('set')
      .description('create or rotate a secret slot')
      .argument('<slot_id>', 'slot id, e.g. openai.prod (letters, digits, ".", "_", "-")')
      .addOption(
        new Option('--provider <provider>', 'who the secret is for (a slot provider or a route driver)')
          .choices(CLI_PROVIDERS)
          .default('generic'),
      )
      .addOption(
        new Option(
          '--mode <mode>',
          'api_key (default for providers) or opaque_secret (default for generic)',
        ).choices(['api_key', 'opaque_secret']),
      )
      .option('--value <value>', 'the secret itself (visible in shell history: prefer the others)', nonEmpty)
      .option('--from-env <var>', 'read the secret from this environment variable')
      .option('--from-file <file>', 'read the secret from a file (trailing newline dropped)')
      .option('--value-file <file>', 'same as --from-file')
      .option('--stdin', 'read the secret from standard input (the default when no other source is given)')
      .option('--organization <org>', 'OpenAI organization stored with an api_key')
      .option('--project <project>', 'OpenAI project stored with an api_key'),
  ).action(async (slotId: string, flags: SetFlags, cmd: Command) => {
    checkStoreFlags(flags, cmd);
    const record = await buildRecord(rt, slotId, flags);
    const status = flags.offline
      ? await withOfflineStore(rt, flags, true, (store) => store.put(record, 'cli_offline'))
      : await rt.client().putSecret(record);
    rt.emit(status, (s) => [`stored secret ${s.slot_id} (${s.provider}, ${s.summary})`]);
  });

  storeOptions(
    secrets
      .command('get')
      .alias('show')
      .description('show one slot (redacted; --reveal prints the value, offline only)')
      .argument('<slot_id>')
      .option('--reveal', 'print the secret value itself (needs --offline and the master key)'),
  ).action(async (slotId: string, flags: StoreFlags & { reveal?: boolean }, cmd: Command) => {
    checkStoreFlags(flags, cmd);
    if (flags.reveal && !flags.offline)
      throw new UsageError(
        '--reveal needs --offline: the daemon never returns secret values',
        'stop the daemon and run `kheish-daemon secrets get <slot_id> --reveal --offline --state-root <dir>`',
      );
    if (flags.reveal) {
      const text = await withOfflineStore(rt, flags, false, async (store) => {
        const state = await store.getSecretState(slotId);
        const { primarySecret } = await import('../secrets/slots.ts');
        return primarySecret(state) ?? JSON.stringify(state);
      });
      rt.io.stdout(`${text}\n`);
      return;
    }
    const status = flags.offline
      ? await withOfflineStore(rt, flags, false, async (store) => {
          const found = await store.status(slotId);
          if (found) return found;
          const { secretErrors } = await import('../secrets/errors.ts');
          throw secretErrors.notFound(slotId);
        })
      : await rt.client().getSecret(slotId);
    rt.emit(status, renderSlot);
  });

  storeOptions(secrets.command('list').description('list secret slots (metadata only)')).action(
    async (flags: StoreFlags, cmd: Command) => {
      checkStoreFlags(flags, cmd);
      const list = flags.offline
        ? await withOfflineStore(rt, flags, false, (store) => store.list())
        : await rt.client().listSecrets();
      rt.emit(list, renderSlotList);
    },
  );

  storeOptions(
    secrets.command('delete').alias('rm').description('delete a secret slot').argument('<slot_id>'),
  ).action(async (slotId: string, flags: StoreFlags, cmd: Command) => {
    checkStoreFlags(flags, cmd);
    const result = flags.offline
      ? await withOfflineStore(rt, flags, false, async (store) => {
          if (await store.delete(slotId)) return { accepted: true };
          const { secretErrors } = await import('../secrets/errors.ts');
          throw secretErrors.notFound(slotId);
        })
      : await rt.client().deleteSecret(slotId);
    rt.emit(result, () => [`deleted secret ${slotId}`]);
  });
}

export function storeOptions(cmd: Command): Command {
  return cmd
    .option('--offline', 'use the state root directly instead of the daemon (the daemon must be stopped)')
    .addOption(
      new Option('--state-root <dir>', `state root for --offline (default ${DEFAULT_STATE_ROOT})`).env(
        'KHEISH_STATE_ROOT',
      ),
    )
    .addOption(
      new Option(
        '--database-url <url>',
        "the daemons' PostgreSQL database for --offline (replicas running on it see the change at their next start)",
      ).env('KHEISH_DATABASE_URL'),
    );
}

export function checkStoreFlags(flags: StoreFlags, cmd: Command): void {
  // Without --offline the command talks to a daemon: a --state-root typed here would be ignored
  // silently, and the user would believe they wrote to that directory.
  if (!flags.offline && cmd.getOptionValueSource('stateRoot') === 'cli')
    throw new UsageError(
      '--state-root only applies with --offline',
      'add --offline (with the daemon stopped)',
    );
  if (!flags.offline && cmd.getOptionValueSource('databaseUrl') === 'cli')
    throw new UsageError('--database-url only applies with --offline', 'add --offline');
}

/** Where a secret value comes from: one of --value, --from-env, --from-file (--value-file), --stdin. */
export interface ValueFlags {
  value?: string;
  fromEnv?: string;
  fromFile?: string;
  valueFile?: string;
  stdin?: boolean;
}

async function buildRecord(rt: CliRuntime, slotId: string, flags: SetFlags): Promise<AuthSlotRecord> {
  const value = await readSecretValue(rt, slotId, flags);
  const provider = SLOT_PROVIDER[flags.provider] ?? flags.provider;
  const keyDriver = flags.provider === 'openai_compatible';
  const mode = flags.mode ?? (provider === 'generic' && !keyDriver ? 'opaque_secret' : 'api_key');
  if (mode === 'opaque_secret') {
    if (flags.organization !== undefined || flags.project !== undefined)
      throw new UsageError('--organization and --project only apply to --mode api_key');
    return { slot_id: slotId, provider, mode, state: { value } };
  }
  const state: Record<string, unknown> = { kind: 'api_key', api_key: value };
  if (flags.organization !== undefined) state.organization = flags.organization;
  if (flags.project !== undefined) state.project = flags.project;
  return { slot_id: slotId, provider, mode: 'api_key', state };
}

/** The value of a secret from exactly one source; with none, asked for (hidden) or read from a pipe. */
export async function readSecretValue(rt: CliRuntime, slotId: string, flags: ValueFlags): Promise<string> {
  const sources = [
    flags.value !== undefined && '--value',
    flags.fromEnv !== undefined && '--from-env',
    flags.fromFile !== undefined && '--from-file',
    flags.valueFile !== undefined && '--value-file',
    flags.stdin && '--stdin',
  ].filter(Boolean);
  if (sources.length > 1)
    throw new UsageError(
      `give the secret value once, not with ${sources.join(' and ')}`,
      'use one of --value V, --from-env VAR, --from-file F or --stdin',
    );
  return sources.length === 0 ? askValue(rt, slotId) : readValue(rt, flags);
}

async function readValue(rt: CliRuntime, flags: ValueFlags): Promise<string> {
  let value: string;
  if (flags.value !== undefined) value = flags.value;
  else if (flags.fromEnv !== undefined) {
    value = process.env[flags.fromEnv] ?? '';
    if (!value) throw new UsageError(`environment variable ${flags.fromEnv} is not set or empty`);
  } else if (flags.stdin) value = dropTrailingNewline(await rt.io.readStdin());
  else {
    const file = (flags.fromFile ?? flags.valueFile)!;
    try {
      value = dropTrailingNewline(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new UsageError(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
    }
  }
  if (!value) throw new UsageError('the secret value is empty');
  return value;
}

const dropTrailingNewline = (text: string) => text.replace(/[\r\n]+$/, '');

async function askValue(rt: CliRuntime, slotId: string): Promise<string> {
  const value = rt.io.readSecret
    ? await rt.io.readSecret(`value of secret ${slotId} (input hidden): `)
    : dropTrailingNewline(await rt.io.readStdin());
  if (!value)
    throw new UsageError(
      'no secret value given',
      'type it when asked, pipe it in, or use one of --value V, --from-env VAR, --from-file F or --stdin',
    );
  return value;
}

/** Opens the state root of a stopped daemon, holding its lock for the duration of `fn`. */
export async function withOfflineStore<T>(
  rt: CliRuntime,
  flags: StoreFlags,
  create: boolean,
  fn: (store: SecretStore) => Promise<T>,
): Promise<T> {
  const [{ existsSync }, { join }, sqlite] = await Promise.all([
    import('node:fs'),
    import('node:path'),
    import('../store/sqlite/open.ts'),
  ]);
  const root = resolve(flags.stateRoot || DEFAULT_STATE_ROOT);
  const databaseUrl = flags.databaseUrl || null;
  if (!databaseUrl && !create && !existsSync(join(root, 'kheish.sqlite')))
    throw new UsageError(
      `no daemon state at ${root}`,
      "pass the daemon's --state-root (or KHEISH_STATE_ROOT)",
    );
  let lock: { release(): void };
  try {
    lock = sqlite.acquireStateRootLock(root);
  } catch (err) {
    if (err instanceof sqlite.StateRootLockedError)
      throw new UsageError(
        `state root ${root} is in use by a running kheish-daemon; --offline needs it stopped`,
        'run the same command without --offline to go through the daemon',
        EXIT.conflict,
      );
    throw err;
  }
  try {
    const { secrets, close } = await openSecretsOffline(root, databaseUrl);
    try {
      for (const warning of secrets.warnings) rt.note(`warning: ${warning}`);
      return await fn(secrets);
    } finally {
      await close();
    }
  } finally {
    lock.release();
  }
}

function renderSlot(s: SlotView): string[] {
  const details = Object.entries(s.details ?? {})
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return keyValues([
    ['slot', s.slot_id],
    ['provider', s.provider],
    ['mode', s.mode],
    ['summary', s.summary],
    ['updated', time(s.updated_at_ms)],
    ['details', details || undefined],
  ]);
}

function renderSlotList(list: SlotView[]): string[] {
  if (list.length === 0) return ['no secrets stored'];
  return table(
    ['SLOT', 'PROVIDER', 'MODE', 'SUMMARY', 'UPDATED'],
    list.map((s) => [s.slot_id, s.provider, s.mode, s.summary, time(s.updated_at_ms) ?? '']),
  );
}
