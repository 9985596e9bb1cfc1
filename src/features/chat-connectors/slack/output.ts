// The `slack` output plugin (api-collab §6.5 "Output"): the answer is posted with chat.postMessage
// in the thread it answers (one message per 4,000-character chunk, each with a deterministic
// client_msg_id), then each attachment goes through files.getUploadURLExternal → upload →
// files.completeUploadExternal. Every finished step is saved before the next, so a retry resumes
// (posted ts, file ids, uploaded/completed flags; never the short-lived upload URL).
import type { SecretStore } from '../../../secrets/secret-store.ts';
import type { ConnectorsPort } from '../../connectors/port.ts';
import type {
  DeliveryContext,
  DeliveryItem,
  DeliveryOutcome,
  OutputPlugin,
  ReplyHandle,
} from '../../deliveries/port.ts';
import { chunkText } from '../shared/chunk-text.ts';
import { stepUuid, stringList } from '../shared/progress.ts';
import {
  checkRouteAllowed,
  invalidSlackTarget,
  parseSlackAddress,
  type SlackRoute,
  slackFromStructured,
} from './address.ts';
import { fileUrlAllowed } from './files.ts';
import { type SlackConfig, slackConfig } from './settings.ts';
import { slackBotToken } from './tokens.ts';
import { type SlackCall, SlackWebApi } from './web-api.ts';

/** Slack renders up to 40,000 characters but advises 4,000 per message (decision 301). */
export const SLACK_TEXT_CHUNK = 4000;

interface FileStep {
  file_id?: string;
  uploaded?: boolean;
  completed?: boolean;
}

interface SlackProgress {
  text_ts: string[];
  files: FileStep[];
}

function readProgress(p: Record<string, unknown>): SlackProgress {
  const files = Array.isArray(p.files)
    ? p.files.map((f) => (typeof f === 'object' && f ? (f as FileStep) : {}))
    : [];
  return { text_ts: stringList(p.text_ts), files };
}

const failed = (r: Extract<SlackCall, { ok: false }>): DeliveryOutcome =>
  r.retry
    ? {
        status: 'retry',
        error_code: r.error,
        ...(r.retry_after_ms !== undefined ? { retry_after_ms: r.retry_after_ms } : {}),
      }
    : { status: 'terminal', error_code: r.error };

export class SlackOutputPlugin implements OutputPlugin {
  readonly plugin = 'slack';
  /** Slack documents no deduplication on client_msg_id: an unknown outcome waits for an operator. */
  readonly receiverDeduplicates = false;
  private readonly connectors: ConnectorsPort;
  private readonly secretStore: SecretStore;

  constructor(connectors: ConnectorsPort, secretStore: SecretStore) {
    this.connectors = connectors;
    this.secretStore = secretStore;
  }

  fromStructured(request: Record<string, unknown>): ReplyHandle | null {
    return slackFromStructured(request);
  }

  private async configFor(route: SlackRoute): Promise<SlackConfig | null> {
    const rec = await this.connectors.get('slack', route.connector);
    return rec ? slackConfig(rec.settings) : null;
  }

  async validateAddress(address: string): Promise<void> {
    const route = parseSlackAddress(address);
    const config = await this.configFor(route);
    if (!config) throw invalidSlackTarget(`there is no slack connector named ${route.connector}`);
    checkRouteAllowed(config, route);
  }

  async deliver(item: DeliveryItem, ctx: DeliveryContext): Promise<DeliveryOutcome> {
    let route: SlackRoute;
    let config: SlackConfig | null;
    try {
      route = parseSlackAddress(item.target.address);
      config = await this.configFor(route);
      if (!config) return { status: 'terminal', error_code: 'slack_connector_not_found' };
      checkRouteAllowed(config, route);
    } catch {
      return { status: 'terminal', error_code: 'slack_target_not_allowed' };
    }
    const token = await slackBotToken(
      this.connectors,
      this.secretStore,
      route.connector,
      config,
      route.team_id,
    );
    if (!token) return { status: 'terminal', error_code: 'slack_bot_token_missing' };
    const api = new SlackWebApi(config.apiBaseUrl, token, ctx.signal);
    const progress = readProgress(item.progress);
    const thread: Record<string, string> = route.thread_ts ? { thread_ts: route.thread_ts } : {};

    const chunks = chunkText(item.content, SLACK_TEXT_CHUNK);
    for (let i = progress.text_ts.length; i < chunks.length; i++) {
      const r = await api.json('chat.postMessage', {
        channel: route.channel_id,
        text: chunks[i],
        client_msg_id: stepUuid(item.delivery_id, `text-${i}`),
        ...thread,
      });
      if (!r.ok) return failed(r);
      progress.text_ts.push(typeof r.body.ts === 'string' ? r.body.ts : '');
      await ctx.saveProgress({ ...progress });
    }

    for (const [j, art] of item.artifacts.entries()) {
      const step: FileStep = { ...(progress.files[j] ?? {}) };
      if (step.completed) continue;
      if (!step.uploaded || !step.file_id) {
        let bytes: Uint8Array;
        try {
          bytes = await ctx.readAsset(art.id);
        } catch {
          return { status: 'terminal', error_code: 'asset_unavailable' };
        }
        const got = await api.form('files.getUploadURLExternal', {
          filename: art.file_name,
          length: String(bytes.byteLength),
        });
        if (!got.ok) return failed(got);
        const url = got.body.upload_url;
        const fileId = got.body.file_id;
        if (typeof url !== 'string' || typeof fileId !== 'string')
          return { status: 'retry', error_code: 'slack_invalid_upload_answer' };
        if (!fileUrlAllowed(config, url))
          return { status: 'terminal', error_code: 'slack_upload_host_not_allowed' };
        const up = await api.upload(url, bytes, art.file_name);
        if (!up.ok) return failed(up);
        step.file_id = fileId;
        step.uploaded = true;
        progress.files[j] = step;
        await ctx.saveProgress({ ...progress, files: [...progress.files] });
      }
      const done = await api.form('files.completeUploadExternal', {
        files: JSON.stringify([{ id: step.file_id, title: art.file_name }]),
        channel_id: route.channel_id,
        ...thread,
      });
      if (!done.ok) return failed(done);
      step.completed = true;
      progress.files[j] = step;
      await ctx.saveProgress({ ...progress, files: [...progress.files] });
    }
    return {
      status: 'delivered',
      detail: { messages: progress.text_ts.length, files: item.artifacts.length },
    };
  }
}
