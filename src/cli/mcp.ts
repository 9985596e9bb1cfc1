// `mcp` (ops-runtime §2.9): the built-in catalog and profiles (local, no daemon), catalog secret
// slots (`auth slots|set`, through the daemon or --offline like `secrets set`), operator tool
// calls through the daemon, and MCP OAuth accounts (mcp-oauth.ts).
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  CATALOG,
  CATALOG_PROFILES,
  type CatalogEntry,
  type CatalogProfile,
  catalogEntry,
  catalogProfile,
} from '../config/mcp-catalog.ts';
import { callMcpTool } from '../sdk/mcp.ts';
import type { JsonObject } from '../sdk/types.ts';
import { UsageError } from './errors.ts';
import { keyValues, table } from './format.ts';
import { registerMcpOauth } from './mcp-oauth.ts';
import { registerMcpServers } from './mcp-servers.ts';
import type { CliRuntime } from './runtime.ts';
import {
  checkStoreFlags,
  readSecretValue,
  type StoreFlags,
  storeOptions,
  type ValueFlags,
  withOfflineStore,
} from './secrets.ts';

export function registerMcp(program: Command, rt: CliRuntime): void {
  const mcp = program
    .command('mcp')
    .description('MCP servers: built-in catalog, profiles, credentials, tool calls');

  const catalog = mcp.command('catalog').description('the built-in MCP catalog (local; needs no daemon)');
  catalog
    .command('list')
    .description('list catalog entries')
    .option('--profile <profile>', 'only the entries of this profile')
    .option('--supported-only', 'only entries a profile can start (status supported)')
    .action((flags: { profile?: string; supportedOnly?: boolean }) => {
      if (flags.profile && !catalogProfile(flags.profile)) throw unknownProfile(flags.profile);
      const entries = CATALOG.filter(
        (e) =>
          (!flags.profile || e.profiles.includes(flags.profile)) &&
          (!flags.supportedOnly || e.status === 'supported'),
      );
      rt.emit(entries, (list) =>
        table(
          ['ID', 'STATUS', 'AUTH', 'PROFILES', 'TRANSPORT'],
          list.map((e) => [e.id, e.status, e.auth, e.profiles.join(','), e.transport]),
        ),
      );
    });
  catalog
    .command('get')
    .description('show one catalog entry')
    .argument('<id>')
    .action((id: string) => rt.emit(entryOrFail(id), renderEntry));

  const profiles = mcp.command('profiles').description('built-in profiles for --mcp-profile (local)');
  profiles
    .command('list')
    .description('list profiles')
    .action(() =>
      rt.emit(CATALOG_PROFILES, (list) =>
        table(
          ['ID', 'SUPPORTED', 'CATALOG_ONLY'],
          list.map((p) => [
            p.id,
            p.supported_entry_ids.join(',') || '-',
            p.entry_ids.filter((e) => !p.supported_entry_ids.includes(e)).join(',') || '-',
          ]),
        ),
      ),
    );
  profiles
    .command('get')
    .description('show one profile and its entries')
    .argument('<id>')
    .action((id: string) => {
      const profile = catalogProfile(id);
      if (!profile) throw unknownProfile(id);
      rt.emit(profile, renderProfile);
    });

  const auth = mcp.command('auth').description('secret slots of catalog entries (mcp.<entry>.<ENV>)');
  auth
    .command('slots')
    .description('the credential variables and secret slots of a catalog entry')
    .argument('<entry-id>')
    .action((id: string) => {
      const e = entryOrFail(id);
      const slots = e.credential_env.map((env, i) => ({
        credential_env: env,
        secret_ref: e.credential_secret_refs[i]!,
      }));
      rt.emit({ entry_id: e.id, auth: e.auth, slots }, (v) =>
        v.slots.length
          ? table(
              ['CREDENTIAL_ENV', 'SECRET_REF'],
              v.slots.map((s) => [s.credential_env, s.secret_ref]),
            )
          : [`catalog entry ${v.entry_id} takes no stored credential (auth: ${v.auth})`],
      );
    });
  storeOptions(
    auth
      .command('set')
      .description("store a catalog entry's credential in its secret slot (a generic opaque secret)")
      .argument('<entry-id>')
      .option('--credential-env <KEY>', 'which credential of the entry (needed when it has several)')
      .option('--value <value>', 'the secret itself (visible in shell history: prefer the others)')
      .option('--from-env <var>', 'read the secret from this environment variable')
      .option('--from-file <file>', 'read the secret from a file (trailing newline dropped)')
      .option('--stdin', 'read the secret from standard input'),
  ).action(async (id: string, flags: StoreFlags & ValueFlags & { credentialEnv?: string }, cmd: Command) => {
    checkStoreFlags(flags, cmd);
    const e = entryOrFail(id);
    if (e.credential_env.length === 0)
      throw new UsageError(`catalog entry ${id} takes no stored credential (auth: ${e.auth})`);
    const env = flags.credentialEnv ?? (e.credential_env.length === 1 ? e.credential_env[0] : undefined);
    const index = env === undefined ? -1 : e.credential_env.indexOf(env);
    if (index < 0)
      throw new UsageError(
        `give --credential-env, one of ${e.credential_env.join(', ')}`,
        `kheish-daemon mcp auth slots ${id}`,
      );
    const slot = e.credential_secret_refs[index]!;
    const record = {
      slot_id: slot,
      provider: 'generic',
      mode: 'opaque_secret' as const,
      state: { value: await readSecretValue(rt, slot, flags) },
    };
    const status = flags.offline
      ? await withOfflineStore(rt, flags, true, (store) => store.put(record, 'cli_offline'))
      : await rt.client().putSecret(record);
    rt.emit(status, (s) => [
      `stored ${s.slot_id} for catalog entry ${id} (${s.summary}); restart the daemon to use it`,
    ]);
  });

  mcp
    .command('tools')
    .description('daemon-loaded MCP tools')
    .command('call')
    .description('call a loaded MCP tool directly (admin; no run, no permission step)')
    .argument('<qualified_tool_name>', 'e.g. mcp__github__get_me')
    .option('--input-json <json>', 'the arguments as a JSON object')
    .option('--input-file <file>', 'read the arguments from a JSON file')
    .option('--stdin', 'read the arguments from standard input')
    .action(async (name: string, flags: { inputJson?: string; inputFile?: string; stdin?: boolean }) => {
      const args = await readInput(rt, flags);
      const result = await callMcpTool(rt.client(), name, args);
      rt.emit(result, (r) => [r.content]);
      if (result.is_error) rt.exitCode = 1;
    });

  registerMcpOauth(mcp, rt);
  registerMcpServers(mcp, rt);
}

function entryOrFail(id: string): CatalogEntry {
  const e = catalogEntry(id);
  if (!e) throw new UsageError(`no catalog entry \`${id}\``, 'see `kheish-daemon mcp catalog list`');
  return e;
}

const unknownProfile = (id: string) =>
  new UsageError(
    `no MCP catalog profile \`${id}\``,
    `the profiles are ${CATALOG_PROFILES.map((p) => p.id).join(', ')}`,
  );

function renderEntry(e: CatalogEntry): string[] {
  return keyValues([
    ['id', e.id],
    ['name', `${e.display_name} (server \`${e.server_name}\`)`],
    ['status', e.status],
    ['risk', e.risk],
    ['auth', e.auth],
    ['profiles', e.profiles.join(', ')],
    ['transport', e.transport],
    ['endpoint', e.endpoint],
    ['credential_env', e.credential_env.join(', ') || undefined],
    ['secret refs', e.credential_secret_refs.join(', ') || undefined],
    ['enabled tools', e.enabled_tools.join(', ') || undefined],
    ['docs', e.docs_url],
    ['about', e.description],
  ]);
}

function renderProfile(p: CatalogProfile): string[] {
  return [
    ...keyValues([
      ['id', p.id],
      ['name', p.display_name],
      ['about', p.description],
    ]),
    '',
    ...table(
      ['ENTRY', 'STATUS'],
      p.entry_ids.map((id) => [id, catalogEntry(id)!.status]),
    ),
  ];
}

async function readInput(
  rt: CliRuntime,
  flags: { inputJson?: string; inputFile?: string; stdin?: boolean },
): Promise<JsonObject> {
  const given = [flags.inputJson !== undefined, flags.inputFile !== undefined, flags.stdin === true].filter(
    Boolean,
  );
  if (given.length > 1) throw new UsageError('give the input once: --input-json, --input-file or --stdin');
  let text = '{}';
  if (flags.inputJson !== undefined) text = flags.inputJson;
  else if (flags.inputFile !== undefined)
    try {
      text = readFileSync(flags.inputFile, 'utf8');
    } catch (err) {
      throw new UsageError(
        `cannot read ${flags.inputFile} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`,
      );
    }
  else if (flags.stdin) text = await rt.io.readStdin();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError('the tool input is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new UsageError('the tool input must be a JSON object');
  return value as JsonObject;
}
