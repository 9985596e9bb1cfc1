// Inbound Slack files (api-collab §6.5): fetched only for signed requests, only from Slack's file
// hosts, the configured API host or HTTPS `allowed_file_hosts`, with the bot token and without
// following redirects (a redirect could carry the token to another host).
import type { AssetsPort } from '../../assets/port.ts';
import {
  type InboundItem,
  importInbound,
  MAX_INBOUND_FILE_BYTES,
  MAX_INBOUND_FILES,
  type SkippedFile,
  skipReason,
} from '../shared/inbound-media.ts';
import { download } from '../shared/wire-client.ts';
import type { SlackFile } from './events.ts';
import type { SlackConfig } from './settings.ts';

const SLACK_FILE_HOSTS = ['files.slack.com', 'slack-files.com'];
const SLACK_FILE_DOMAINS = ['.slack.com', '.slack-files.com'];

/** Whether a file URL may be fetched with the bot token. */
export function fileUrlAllowed(config: SlackConfig, raw: string): boolean {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return false;
  }
  if (u.username || u.password) return false;
  const api = new URL(config.apiBaseUrl);
  if (u.origin === api.origin) return true;
  if (u.protocol !== 'https:') return false;
  const host = u.host.toLowerCase();
  if (SLACK_FILE_HOSTS.includes(host) || SLACK_FILE_DOMAINS.some((d) => host.endsWith(d))) return true;
  return config.allowedFileHosts.includes(host);
}

export async function fetchSlackFiles(
  assets: AssetsPort,
  config: SlackConfig,
  token: string | null,
  files: SlackFile[],
  signal?: AbortSignal,
): Promise<{ items: InboundItem[]; skipped: SkippedFile[] }> {
  const items: InboundItem[] = [];
  const skipped: SkippedFile[] = [];
  for (const [i, f] of files.entries()) {
    if (i >= MAX_INBOUND_FILES) {
      skipped.push({ id: f.id, reason: 'too_many_files' });
      continue;
    }
    if (!token) {
      skipped.push({ id: f.id, reason: 'no_bot_token' });
      continue;
    }
    if (!f.url || !fileUrlAllowed(config, f.url)) {
      skipped.push({ id: f.id, reason: 'file_host_not_allowed' });
      continue;
    }
    if (f.size !== null && f.size > MAX_INBOUND_FILE_BYTES) {
      skipped.push({ id: f.id, reason: 'file_too_large' });
      continue;
    }
    try {
      const got = await download(f.url, { authorization: `Bearer ${token}` }, MAX_INBOUND_FILE_BYTES, {
        signal,
      });
      items.push(
        await importInbound(assets, { file_name: f.name, media_type: f.mimetype, bytes: got.bytes }, signal),
      );
    } catch (err) {
      if (signal?.aborted) throw err;
      skipped.push({ id: f.id, reason: skipReason(err) });
    }
  }
  return { items, skipped };
}
