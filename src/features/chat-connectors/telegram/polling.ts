// Telegram polling ingress (api-collab §6.6 "Polling"): one loop per polling connector calls
// getUpdates with the persisted cursor, hands each update to the shared ingress, and moves the
// cursor after each one, so nothing is replayed after a restart (and an update whose run was
// created just before a crash is a duplicate of itself the next time). On PostgreSQL replicas, a
// lease decides which replica polls a bot; the others re-check it every few seconds.
import type { Logger } from 'pino';
import { isDaemonError } from '../../../errors/daemon-error.ts';
import {
  acquirePollingLease,
  advancePollingCursor,
  deletePollingCursor,
  releasePollingLease,
} from '../../../store/repos/telegram-polling.ts';
import type { Store } from '../../../store/store.ts';
import type { ConnectorRecord, ConnectorsPort } from '../../connectors/port.ts';
import { capRetryAfter } from '../shared/retry-after.ts';
import { WireError } from '../shared/wire-client.ts';
import { TelegramBotApi } from './bot-api.ts';
import type { TelegramIngress } from './ingress.ts';
import { telegramConfig } from './settings.ts';
import { SUPPORTED_UPDATES } from './updates.ts';

/** How often every replica re-reads the polling connectors and free leases. */
export const RESYNC_MS = 5_000;
/** A lease outlives one long poll by this much. */
const LEASE_SLACK_MS = 30_000;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

interface Loop {
  abort: AbortController;
  done: Promise<void>;
  /** The settings it runs with: a change restarts it. */
  stamp: string;
}

export class TelegramPollers {
  private readonly loops = new Map<string, Loop>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = true;
  private readonly connectors: ConnectorsPort;
  private readonly ingress: TelegramIngress;
  private readonly store: Store;
  private readonly owner: string;
  private readonly log: Logger;

  constructor(
    connectors: ConnectorsPort,
    ingress: TelegramIngress,
    store: Store,
    owner: string,
    log: Logger,
  ) {
    this.connectors = connectors;
    this.ingress = ingress;
    this.store = store;
    this.owner = owner;
    this.log = log;
  }

  /** Connector names with a running loop (for tests and status). */
  get running(): string[] {
    return [...this.loops.keys()];
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.resync();
    this.timer = setInterval(() => void this.resync(), RESYNC_MS);
    this.timer.unref();
  }

  private async resync(): Promise<void> {
    if (this.stopped) return;
    let all: ConnectorRecord[];
    try {
      all = await this.connectors.listRecords('telegram');
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'telegram pollers: cannot list connectors');
      return;
    }
    const wanted = new Set<string>();
    for (const rec of all) {
      if (rec.settings.ingress_mode !== 'polling') continue;
      wanted.add(rec.name);
      this.ensure(rec);
    }
    for (const name of this.loops.keys()) if (!wanted.has(name)) await this.halt(name);
  }

  /** The registry changed one connector (created, updated, deleted). */
  async onChange(name: string, rec: ConnectorRecord | null): Promise<void> {
    if (rec?.settings.ingress_mode !== 'polling') await this.halt(name);
    if (!rec) await this.store.write((tx) => deletePollingCursor(tx.db, name)).catch(() => undefined);
    if (rec && rec.settings.ingress_mode === 'polling' && !this.stopped) this.ensure(rec);
  }

  private ensure(rec: ConnectorRecord): void {
    const stamp = JSON.stringify([rec.settings, rec.secret_fields]);
    const current = this.loops.get(rec.name);
    if (current && current.stamp === stamp) return;
    if (current) {
      current.abort.abort();
      this.loops.delete(rec.name);
    }
    const abort = new AbortController();
    const loop: Loop = { abort, stamp, done: Promise.resolve() };
    loop.done = (current?.done ?? Promise.resolve()).then(() => this.run(rec.name, abort.signal));
    this.loops.set(rec.name, loop);
  }

  private async halt(name: string): Promise<void> {
    const loop = this.loops.get(name);
    if (!loop) return;
    this.loops.delete(name);
    loop.abort.abort();
    await loop.done;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const loop of this.loops.values()) loop.abort.abort();
  }

  async shutdown(): Promise<void> {
    this.stop();
    await Promise.all([...this.loops.values()].map((l) => l.done));
    this.loops.clear();
  }

  /** One connector's loop, until its signal aborts. */
  private async run(name: string, signal: AbortSignal): Promise<void> {
    const where = { connector: `telegram/${name}` };
    let backoff = 1000;
    // SQLite has one writer (the state-root lock): a lease left by this daemon's previous life is ours.
    const force = this.store.dialect === 'sqlite';
    while (!signal.aborted) {
      try {
        const rec = await this.connectors.get('telegram', name);
        if (rec?.settings.ingress_mode !== 'polling') return;
        const config = telegramConfig(rec.settings);
        const ttl = config.pollingTimeoutSecs * 1000 + LEASE_SLACK_MS;
        const offset = await this.store.write((tx) =>
          acquirePollingLease(tx.db, name, this.owner, tx.now, ttl, force),
        );
        if (offset === null) {
          await sleep(RESYNC_MS, signal);
          continue;
        }
        const token = await this.connectors.secret('telegram', name, 'bot_token');
        if (!token) {
          this.log.error(where, 'telegram polling: the bot token cannot be read; retrying in 30 s');
          await sleep(30_000, signal);
          continue;
        }
        const api = new TelegramBotApi(config.apiBaseUrl, token, signal);
        const r = await api.call(
          'getUpdates',
          { offset, timeout: config.pollingTimeoutSecs, allowed_updates: SUPPORTED_UPDATES },
          config.pollingTimeoutSecs * 1000 + 15_000,
        );
        if (!r.ok) {
          const wait = r.retry_after_ms ?? (r.retry ? backoff : 30_000);
          this.log.warn({ ...where, error: r.error, wait_ms: wait }, 'telegram polling: getUpdates failed');
          backoff = Math.min(backoff * 2, 30_000);
          await sleep(capRetryAfter(wait), signal);
          continue;
        }
        backoff = 1000;
        const updates = Array.isArray(r.result) ? r.result : [];
        for (const update of updates) {
          if (signal.aborted) return;
          const id = typeof update?.update_id === 'number' ? update.update_id : null;
          if (id === null || id < offset) continue;
          const handled = await this.handle(rec, config, update, signal);
          if (!handled) break;
          const held = await this.store.write((tx) =>
            advancePollingCursor(tx.db, name, this.owner, id + 1, tx.now, ttl),
          );
          if (!held) {
            this.log.warn(where, 'telegram polling: the lease moved to another replica');
            break;
          }
        }
      } catch (err) {
        if (signal.aborted || (err instanceof WireError && err.kind === 'aborted')) break;
        this.log.warn({ ...where, err: (err as Error).message }, 'telegram polling: retrying after an error');
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
    await this.store.write((tx) => releasePollingLease(tx.db, name, this.owner)).catch(() => undefined);
  }

  /**
   * One update; true when the cursor may move past it. Rate-limited updates wait for their token;
   * an update the daemon refuses for good (a session policy conflict, a malformed update) is
   * logged and skipped so one bad update cannot stall the chat; storage trouble retries.
   */
  private async handle(
    rec: ConnectorRecord,
    config: ReturnType<typeof telegramConfig>,
    update: unknown,
    signal: AbortSignal,
  ): Promise<boolean> {
    for (;;) {
      if (signal.aborted) return false;
      try {
        const out = await this.ingress.process(rec, config, update, true, signal);
        if (out.status !== 'rate_limited') return true;
        await sleep(Math.max(50, out.retry_after_ms), signal);
      } catch (err) {
        if (isDaemonError(err) && err.status >= 400 && err.status < 500 && err.status !== 429) {
          this.log.warn(
            { connector: `telegram/${rec.name}`, code: err.code },
            'telegram polling: an update was refused and is skipped',
          );
          return true;
        }
        throw err;
      }
    }
  }
}
