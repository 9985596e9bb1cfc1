// The local config a provisioned capture agent runs with (the `kheish-capture` runtime's TOML):
// daemon address, heartbeat token and one [[sources]] table per owned source with its upload token.
// Rendered once, in the provisioning response; the daemon keeps only digests.
import type { CaptureAgentRow } from '../../store/repos/capture-agents.ts';
import type { ProvisionRequest } from './capture-schema.ts';

/** JSON string escapes are valid TOML basic-string escapes. */
const str = (s: string): string => JSON.stringify(s);

export function renderAgentConfig(
  body: ProvisionRequest,
  p: { machine_id: string; os_profile: string; camera?: string; microphone?: string },
  row: CaptureAgentRow,
  uploads: Record<string, string>,
  heartbeatToken: string,
): string {
  const lines = [
    `# kheish-capture agent ${p.machine_id} (batch ${body.batch_id}); holds secrets: keep it owner-only`,
    '[daemon]',
    `base_url = ${str(body.daemon_base_url)}`,
    '',
    '[capture_agent]',
    `machine_id = ${str(p.machine_id)}`,
    `batch_id = ${str(body.batch_id)}`,
    `os_profile = ${str(p.os_profile)}`,
    `heartbeat_token = ${str(heartbeatToken)}`,
    `heartbeat_interval_ms = ${row.heartbeat_interval_ms}`,
  ];
  if (p.camera) lines.push(`camera = ${str(p.camera)}`);
  if (p.microphone) lines.push(`microphone = ${str(p.microphone)}`);
  const schedule = [
    body.interval_ms !== undefined ? `interval_ms = ${body.interval_ms}` : null,
    body.max_runs !== undefined ? `max_runs = ${body.max_runs}` : null,
    body.duration_ms !== undefined ? `duration_ms = ${body.duration_ms}` : null,
  ].filter((l): l is string => l !== null);
  for (const [sourceId, token] of Object.entries(uploads)) {
    lines.push(
      '',
      '[[sources]]',
      `source_id = ${str(sourceId)}`,
      'enabled = true',
      `upload_token = ${str(token)}`,
      ...schedule,
    );
  }
  return `${lines.join('\n')}\n`;
}
