// `connectors` (ops-runtime §2.11): list, get, put-http|put-slack|put-telegram|put-external, delete.
// Each is one call of /v1/runtime/connectors through the SDK. PUT is a field-aware upsert: only the
// fields in the JSON change. Views show secret metadata, never a value.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { type ConnectorKind, ConnectorsResource, type ConnectorView } from '../sdk/connectors.ts';
import { itemsOf, type JsonObject } from '../sdk/types.ts';
import { UsageError } from './errors.ts';
import { keyValues, table, time } from './format.ts';
import type { CliRuntime } from './runtime.ts';

const KINDS: ConnectorKind[] = ['http', 'slack', 'telegram', 'external'];

function kindOf(raw: string): ConnectorKind {
  if (!(KINDS as string[]).includes(raw))
    throw new UsageError(`connector kind must be one of ${KINDS.join(', ')} (got ${raw})`);
  return raw as ConnectorKind;
}

/** The PUT body from --json or --file (- for standard input): one JSON object. */
async function bodyOf(rt: CliRuntime, f: { json?: string; file?: string }): Promise<JsonObject> {
  if ((f.json === undefined) === (f.file === undefined))
    throw new UsageError('give exactly one of --json or --file');
  let text = f.json;
  if (f.file !== undefined) {
    try {
      text = f.file === '-' ? await rt.io.readStdin() : readFileSync(f.file, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read --file ${f.file} (${(err as NodeJS.ErrnoException).code})`);
    }
  }
  let body: unknown;
  try {
    body = JSON.parse(text!);
  } catch (err) {
    throw new UsageError(`the connector JSON is not valid: ${(err as Error).message}`);
  }
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new UsageError('the connector JSON must be an object');
  return body as JsonObject;
}

const isSecretMeta = (v: unknown): v is { configured: boolean; source: string | null } =>
  !!v && typeof v === 'object' && 'configured' in (v as object) && 'secret_ref' in (v as object);

export function renderConnector(c: ConnectorView): string[] {
  const rows: [string, string | undefined][] = [
    ['connector', `${c.kind}/${c.name}`],
    ['source', c.source],
  ];
  for (const [k, v] of Object.entries(c)) {
    if (['kind', 'name', 'source', 'created_at_ms', 'updated_at_ms'].includes(k)) continue;
    rows.push([
      k,
      isSecretMeta(v)
        ? v.configured
          ? `configured (${v.source})`
          : 'not configured'
        : typeof v === 'string'
          ? v
          : JSON.stringify(v),
    ]);
  }
  if (typeof c.updated_at_ms === 'number') rows.push(['updated', time(c.updated_at_ms)]);
  return keyValues(rows);
}

const renderList = (list: ConnectorView[]) =>
  list.length === 0
    ? ['no connectors']
    : table(
        ['KIND', 'NAME', 'SOURCE'],
        list.map((c) => [c.kind, c.name, c.source]),
      );

export function registerConnectors(program: Command, rt: CliRuntime): void {
  const connectors = program
    .command('connectors')
    .alias('connector')
    .description('inbound transports (HTTP webhooks, Slack, Telegram, external sidecars)');
  const api = () => new ConnectorsResource(rt.client());

  connectors
    .command('list')
    .description('list file-backed and runtime connectors')
    .action(async () => {
      const result = await api().list();
      rt.emit(result, (r) => renderList(itemsOf(r)));
    });

  connectors
    .command('get')
    .description('show one connector (secrets as metadata only)')
    .argument('<kind>')
    .argument('<name>')
    .action(async (kind: string, name: string) =>
      rt.emit(await api().get(kindOf(kind), name), renderConnector),
    );

  for (const kind of KINDS)
    connectors
      .command(`put-${kind}`)
      .description(`create a ${kind} connector, or change only the fields given`)
      .argument('<name>')
      .option('--json <json>', 'the fields, as a JSON object')
      .option('--file <file>', 'the fields from a JSON file (- for standard input)')
      .action(async (name: string, f: { json?: string; file?: string }) =>
        rt.emit(await api().put(kind, name, await bodyOf(rt, f)), renderConnector),
      );

  connectors
    .command('delete')
    .description('delete a runtime connector (file-backed ones are changed in their file)')
    .argument('<kind>')
    .argument('<name>')
    .action(async (kind: string, name: string) =>
      rt.emit(await api().delete(kindOf(kind), name), () => [`connector ${kind}/${name} deleted`]),
    );
}
