// `external-connectors` (alias `sidecars`): the operator's view of sidecar children and a way to
// send events as a sidecar would (api-collab §6.8). Sending uses the connector's shared token
// (--shared-token or --shared-token-env), never the control-plane token.
import type { Command } from 'commander';
import {
  type ExternalBatchItem,
  type ExternalChildStatus,
  ExternalConnectorsResource,
  type ExternalEvent,
} from '../sdk/external-connectors.ts';
import { jsonInput } from './approvals.ts';
import { UsageError } from './errors.ts';
import { oneLine, table } from './format.ts';
import type { CliRuntime } from './runtime.ts';

interface SendFlags {
  eventJson?: string;
  eventFile?: string;
  sharedToken?: string;
  sharedTokenEnv?: string;
  protocolVersion?: string;
}

function tokenOf(f: SendFlags): string | undefined {
  if (f.sharedToken !== undefined && f.sharedTokenEnv !== undefined)
    throw new UsageError('give either --shared-token or --shared-token-env, not both');
  if (f.sharedTokenEnv === undefined) return f.sharedToken;
  const v = process.env[f.sharedTokenEnv];
  if (!v) throw new UsageError(`environment variable ${f.sharedTokenEnv} is not set`);
  return v;
}

const renderChildren = (r: { children: ExternalChildStatus[] }) =>
  r.children.length === 0
    ? ['no child-process sidecars']
    : table(
        ['CONNECTOR', 'STATE', 'PID', 'RESTARTS', 'REPLICA', 'LAST ERROR'],
        r.children.map((c) => [
          c.connector,
          c.state,
          c.pid === null ? '-' : String(c.pid),
          String(c.restarts),
          c.owner_replica_id ?? '-',
          oneLine(c.last_error ?? '-', 60),
        ]),
      );

const renderBatch = (r: { results: ExternalBatchItem[] }) =>
  table(
    ['#', 'EVENT', 'STATUS', 'SESSION', 'RUN'],
    r.results.map((x) => [
      String(x.index),
      x.event_id ?? '-',
      x.status === 'rate_limited' ? `rate_limited (${x.retry_after_ms} ms)` : x.status,
      x.session_id ?? '-',
      x.run_id ?? '-',
    ]),
  );

export function registerExternalConnectors(program: Command, rt: CliRuntime): void {
  const group = program
    .command('external-connectors')
    .alias('sidecars')
    .description('external connector sidecars: child status, and sending events as a sidecar');
  const api = () => new ExternalConnectorsResource(rt.client());

  group
    .command('status')
    .description('child-process sidecars: state, pid, restarts, owning replica, last error')
    .action(async () => rt.emit(await api().status(), renderChildren));

  const sendOptions = (cmd: Command) =>
    cmd
      .option('--shared-token <token>', "the connector's shared token")
      .option('--shared-token-env <name>', 'read the shared token from this environment variable');

  sendOptions(
    group
      .command('send')
      .description('POST one event to /v1/connectors/external/<name>/events (ingress protocol 2)')
      .argument('<name>')
      .option('--event-json <json>', 'the event (JSON object with event_id and content or input_items)')
      .option('--event-file <file>', 'the event from a JSON file (- for standard input)')
      .option('--protocol-version <n>', 'ingress protocol version (2, or 1 for older sidecars)', '2'),
  ).action(async (name: string, f: SendFlags) => {
    const event = await jsonInput(rt, f.eventJson, f.eventFile, 'event');
    if (!event || typeof event !== 'object' || Array.isArray(event))
      throw new UsageError('give the event with --event-json or --event-file (a JSON object)');
    const r = await api().sendEvent(name, event as ExternalEvent, tokenOf(f), Number(f.protocolVersion));
    rt.emit(r, (x) => [`${x.status} ${x.event_id}: session ${x.session_id} run ${x.run_id}`]);
  });

  sendOptions(
    group
      .command('send-batch')
      .description('POST events to /v1/connectors/external/<name>/events/batch (one result per event)')
      .argument('<name>')
      .option('--events-json <json>', 'a JSON array of events')
      .option('--events-file <file>', 'a JSON array of events from a file (- for standard input)'),
  ).action(async (name: string, f: SendFlags & { eventsJson?: string; eventsFile?: string }) => {
    const events = await jsonInput(rt, f.eventsJson, f.eventsFile, 'events');
    if (!Array.isArray(events)) throw new UsageError('give the events as a JSON array');
    rt.emit(await api().sendBatch(name, events as ExternalEvent[], tokenOf(f)), renderBatch);
  });
}
