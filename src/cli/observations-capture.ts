// `observations agents provision|list|get|revoke` and `observations alerts`: capture agents the
// daemon provisions (the provisioning answer is the only one with raw tokens: --out-dir writes one
// owner-only config file per agent instead of printing them).
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type {
  CaptureAgentView,
  CaptureAlertView,
  ObservationsResource,
  ProvisionRequest,
} from '../sdk/observations.ts';
import { UsageError } from './errors.ts';
import { keyValues, table, time } from './format.ts';
import { positiveInt } from './parse.ts';
import type { CliRuntime } from './runtime.ts';

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function renderAgent(a: CaptureAgentView): string[] {
  return keyValues([
    ['agent', a.machine_id],
    ['status', a.status],
    ['batch', a.batch_id],
    ['os profile', a.os_profile],
    ['sources', a.source_ids.join(', ')],
    ['heartbeat', a.heartbeat_state],
    ['last heartbeat', time(a.last_heartbeat_at_ms) ?? 'never'],
    ['deadline', time(a.heartbeat_deadline_ms)],
    ['revoked', a.revoked_at_ms === null ? undefined : `${time(a.revoked_at_ms)} (${a.revoke_reason})`],
  ]);
}

const renderAgents = (list: CaptureAgentView[]) =>
  list.length === 0
    ? ['no capture agents']
    : table(
        ['AGENT', 'STATUS', 'HEARTBEAT', 'SOURCES'],
        list.map((a) => [a.machine_id, a.status, a.heartbeat_state, a.source_ids.join(',')]),
      );

const renderAlerts = (list: CaptureAlertView[]) =>
  list.length === 0
    ? ['no capture alerts']
    : table(
        ['AGENT', 'ALERT', 'SINCE'],
        list.map((a) => [a.machine_id, a.kind, time(a.since_ms) ?? '-']),
      );

interface ProvisionFlags {
  batchId: string;
  daemonBaseUrl?: string;
  agentId: string[];
  osProfile?: ProvisionRequest['os_profile'];
  screen?: boolean;
  camera?: boolean;
  systemAudio?: boolean;
  microphone?: boolean;
  outDir?: string;
  tokenTtlMs?: number;
  heartbeatIntervalMs?: number;
  heartbeatGraceMs?: number;
  retentionSeconds?: number;
}

export function registerCapture(group: Command, rt: CliRuntime, api: () => ObservationsResource): void {
  const agents = group.command('agents').description('host-local capture agents the daemon provisions');
  agents
    .command('provision')
    .description('create or rotate capture agents and their sources (prints or writes their configs once)')
    .requiredOption('--batch-id <id>', 'a new id per provisioning (reusing one is refused)')
    .requiredOption('--agent-id <machine_id>', 'an agent to provision (repeatable)', collect)
    .option('--daemon-base-url <url>', 'the address agents upload to (default: this client’s)')
    .option('--os-profile <profile>', 'macos (default), linux or windows')
    .option('--screen', 'a screen_snapshot source')
    .option('--camera', 'a webcam_snapshot source')
    .option('--system-audio', 'a microphone_segment source for system audio')
    .option('--microphone', 'a microphone_segment source')
    .option('--out-dir <dir>', 'write <machine_id>.toml configs here (owner-only) instead of printing tokens')
    .option('--token-ttl-ms <n>', 'upload token lease lifetime', positiveInt)
    .option('--heartbeat-interval-ms <n>', 'expected heartbeat interval', positiveInt)
    .option('--heartbeat-grace-ms <n>', 'grace after a missed heartbeat', positiveInt)
    .option('--retention-seconds <n>', 'retention of the created sources', positiveInt)
    .action(async (f: ProvisionFlags) => {
      const sources = {
        screen: !!f.screen,
        camera: !!f.camera,
        system_audio: !!f.systemAudio,
        microphone: !!f.microphone,
      };
      if (!Object.values(sources).some(Boolean)) sources.screen = true;
      const body: ProvisionRequest = {
        batch_id: f.batchId,
        daemon_base_url: f.daemonBaseUrl ?? rt.client().baseUrl,
        agents: f.agentId.map((machine_id) => ({ machine_id })),
        sources,
      };
      if (f.osProfile) body.os_profile = f.osProfile;
      if (f.tokenTtlMs) body.token_ttl_ms = f.tokenTtlMs;
      if (f.heartbeatIntervalMs) body.heartbeat_interval_ms = f.heartbeatIntervalMs;
      if (f.heartbeatGraceMs) body.heartbeat_grace_ms = f.heartbeatGraceMs;
      if (f.retentionSeconds) body.retention_seconds = f.retentionSeconds;
      const res = await api().provisionAgents(body);
      if (!f.outDir) {
        rt.emit(res, (r) => r.agents.flatMap((a) => [`# ${a.machine_id}`, a.config_toml]));
        return;
      }
      try {
        mkdirSync(f.outDir, { recursive: true, mode: 0o700 });
        for (const a of res.agents) {
          const path = join(f.outDir, `${a.machine_id}.toml`);
          writeFileSync(path, a.config_toml, { mode: 0o600 });
          chmodSync(path, 0o600);
        }
      } catch (err) {
        throw new UsageError(`cannot write configs to ${f.outDir} (${(err as NodeJS.ErrnoException).code})`);
      }
      const summary = res.agents.map((a) => ({
        ...a.agent,
        config_file: join(f.outDir!, `${a.machine_id}.toml`),
      }));
      rt.emit(summary, (list) =>
        list.map((a) => `${a.machine_id}: ${a.source_ids.join(', ')} -> ${a.config_file}`),
      );
    });
  agents
    .command('list')
    .description('list capture agents (heartbeat deadlines are checked first)')
    .action(async () => rt.emit(await api().listAgents(), renderAgents));
  agents
    .command('get')
    .description('show one capture agent')
    .argument('<machine_id>')
    .action(async (id: string) => rt.emit(await api().getAgent(id), renderAgent));
  agents
    .command('revoke')
    .description('revoke an agent: every lease ends and every source it owned is disabled (idempotent)')
    .argument('<machine_id>')
    .option('--reason <text>', 'recorded (secret-looking text is redacted)')
    .action(async (id: string, f: { reason?: string }) =>
      rt.emit(await api().revokeAgent(id, f.reason), renderAgent),
    );
  group
    .command('alerts')
    .description('capture alerts (agents whose heartbeat is missing)')
    .action(async () => rt.emit(await api().alerts(), renderAlerts));
}
