// The --connectors-config TOML file (api-collab §6.9): `[[http_connectors]]`, `[[slack_connectors]]`,
// `[[telegram_connectors]]`, `[[external_connectors]]` tables, each with a `name`. Every secret field
// has three spellings: `<field>` (inline), `<field>_env`, `<field>_secret_ref`. Pure parsing: the
// connectors feature validates each entry with its kind's rules at start-up.
import { readFileSync } from 'node:fs';
import { parse } from 'smol-toml';
import { ConfigError } from './serve-options.ts';

export type FileConnectorKind = 'http' | 'slack' | 'telegram' | 'external';

/** Where a secret field's value comes from; several may be set (precedence: slot, env, inline). */
export interface SecretBinding {
  secret_ref?: string;
  env?: string;
  inline?: string;
}

export interface FileConnector {
  kind: FileConnectorKind;
  name: string;
  settings: Record<string, unknown>;
  secrets: Record<string, SecretBinding>;
}

/** A ConfigError: `serve` reports it and exits 2 like any bad flag. */
export class ConnectorsFileError extends ConfigError {}

const TABLES: Record<string, FileConnectorKind> = {
  http_connectors: 'http',
  slack_connectors: 'slack',
  telegram_connectors: 'telegram',
  external_connectors: 'external',
};

/** The secret fields of each kind (api-collab §6.3–§6.8). */
export const SECRET_FIELDS: Record<FileConnectorKind, readonly string[]> = {
  http: ['bearer_token', 'hmac_secret'],
  slack: ['bot_token', 'signing_secret'],
  telegram: ['bot_token', 'secret_token'],
  external: ['shared_token'],
};

export function readConnectorsFile(path: string): FileConnector[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConnectorsFileError(`cannot read the connectors config ${path}: ${(err as Error).message}`);
  }
  return parseConnectorsToml(text, path);
}

export function parseConnectorsToml(text: string, where = 'connectors config'): FileConnector[] {
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new ConnectorsFileError(`${where} is not valid TOML: ${(err as Error).message}`);
  }
  const out: FileConnector[] = [];
  const seen = new Set<string>();
  for (const [table, value] of Object.entries(doc)) {
    if (table === 'version') continue;
    const kind = TABLES[table];
    if (!kind)
      throw new ConnectorsFileError(
        `${where}: unknown table [[${table}]]; expected one of ${Object.keys(TABLES).join(', ')}`,
      );
    if (!Array.isArray(value))
      throw new ConnectorsFileError(`${where}: ${table} must be an array of tables ([[${table}]])`);
    for (const entry of value as Record<string, unknown>[]) {
      const c = splitEntry(kind, entry, `${where}: [[${table}]]`);
      const id = `${kind}/${c.name}`;
      if (seen.has(id)) throw new ConnectorsFileError(`${where}: connector ${id} is defined twice`);
      seen.add(id);
      out.push(c);
    }
  }
  return out;
}

function splitEntry(kind: FileConnectorKind, entry: Record<string, unknown>, where: string): FileConnector {
  const { name, ...rest } = entry;
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(name))
    throw new ConnectorsFileError(
      `${where}: name must be 1-128 characters of letters, digits, ".", "_" or "-" (got ${JSON.stringify(name)})`,
    );
  const settings: Record<string, unknown> = {};
  const secrets: Record<string, SecretBinding> = {};
  const fields = SECRET_FIELDS[kind];
  for (const [key, value] of Object.entries(rest)) {
    const field = fields.find((f) => key === f || key === `${f}_env` || key === `${f}_secret_ref`);
    if (!field) {
      settings[key] = value;
      continue;
    }
    if (typeof value !== 'string' || value.trim() === '')
      throw new ConnectorsFileError(`${where} ${name}: ${key} must be a non-empty string`);
    const b = secrets[field] ?? {};
    secrets[field] = b;
    if (key === field) b.inline = value;
    else if (key.endsWith('_env')) b.env = value;
    else b.secret_ref = value;
  }
  return { kind, name, settings, secrets };
}
