// Channels (api-collab §1): records, roster, the public log with threads and reactions, and the
// port other features use. Turn arbitration lives in turns.ts, the end of turns in settle.ts.
import { monotonicFactory } from 'ulid';
import type { Engine } from '../../engine/engine.ts';
import { DaemonError } from '../../errors/daemon-error.ts';
import {
  activeLeases,
  allChannels,
  appendChannelEvent,
  type ChannelRow,
  countMembers,
  deleteChannelRows,
  deleteMemberRow,
  getChannel,
  getMember,
  insertChannel,
  membersOf,
  messageStats,
  nextSeq,
  updateChannel,
  updateLease,
  upsertMemberRow,
} from '../../store/repos/channels.ts';
import type { Executor } from '../../store/schema.ts';
import type { WriteTx } from '../../store/store.ts';
import type { AssetsPort } from '../assets/port.ts';
import { rootAllowance } from './autonomy.ts';
import { type ChannelEventSink, channelEvent } from './events.ts';
import { ChannelLog } from './log.ts';
import type { ChannelDeleteGuard, ChannelDeleteHook, ChannelMetricsSource } from './port.ts';
import { labelOf, memberRow } from './roster.ts';
import type {
  ChannelDetailView,
  ChannelSummary,
  CreateChannelRequest,
  MemberInput,
  MemberView,
  UpdateChannelRequest,
} from './schema.ts';
import { DEFAULT_POLICY } from './schema.ts';
import type { TurnContext } from './turns.ts';
import { type CounterName, leaseView, memberView, parseJson, policyOf, zeroCounters } from './views.ts';

const ulid = monotonicFactory();

export const channelNotFound = (id: string) =>
  new DaemonError(404, 'channels', 'channel_not_found', `channel ${id} was not found`);
const invalid = (detail: string) => new DaemonError(400, 'channels', 'invalid_channel', detail);

function checkId(id: string, what: string): void {
  if (id.trim() === '' || /^\.+$/.test(id) || [...id].some((c) => c === '/' || c === '\\' || c < ' '))
    throw invalid(`${what} must be non-empty, not "." or "..", without slashes or control characters`);
}

export class ChannelsService implements TurnContext {
  readonly engine: Engine;
  readonly assets: () => AssetsPort | null;
  readonly guards: ChannelDeleteGuard[] = [];
  readonly deleteHooks: ChannelDeleteHook[] = [];
  readonly metricSources: ChannelMetricsSource[] = [];
  readonly sink: ChannelEventSink;
  readonly log: ChannelLog;

  constructor(engine: Engine, assets: () => AssetsPort | null) {
    this.engine = engine;
    this.assets = assets;
    this.sink = channelEvent(engine.events);
    this.log = new ChannelLog(this);
  }

  get db() {
    return this.engine.store.db;
  }

  // ------------------------------------------------------------------ TurnContext

  async bump(tx: WriteTx, channelId: string, name: CounterName, by = 1): Promise<void> {
    const c = await getChannel(tx.db, channelId);
    if (!c) return;
    const counters = { ...zeroCounters(), ...JSON.parse(c.counters) };
    counters[name] += by;
    await updateChannel(tx.db, channelId, { counters: JSON.stringify(counters) });
  }

  async record(
    tx: WriteTx,
    channelId: string,
    kind: string,
    payload: Record<string, unknown>,
  ): Promise<void> {
    const seq = await nextSeq(tx.db, channelId);
    await appendChannelEvent(tx.db, { channel_id: channelId, seq, kind, payload, created_at_ms: tx.now });
    await this.sink(tx, channelId, seq, kind, payload);
  }

  // ------------------------------------------------------------------ channels

  async require(db: Executor, id: string): Promise<ChannelRow> {
    const c = await getChannel(db, id);
    if (!c) throw channelNotFound(id);
    return c;
  }

  private async checkAssets(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const assets = this.assets();
    if (!assets)
      throw new DaemonError(400, 'assets', 'assets_unavailable', 'pinned assets need the assets store');
    for (const id of ids)
      if (!(await assets.get(id)))
        throw new DaemonError(400, 'channels', 'pinned_asset_not_found', `asset ${id} does not exist`);
  }

  private async pin(db: Executor, channelId: string, ids: string[]): Promise<void> {
    const assets = this.assets();
    if (!assets) return;
    await assets.removeReferences({ domain: 'channels', owner_id: channelId, role: 'pinned' }, db);
    if (ids.length)
      await assets.addReferences(
        ids.map((asset_id) => ({
          asset_id,
          domain: 'channels',
          owner_id: channelId,
          role: 'pinned',
          hard: true,
        })),
        db,
      );
  }

  async create(body: CreateChannelRequest): Promise<ChannelDetailView> {
    const channelId = body.channel_id ?? `channel-${ulid().toLowerCase()}`;
    checkId(channelId, 'channel_id');
    const seen = new Set<string>();
    for (const m of body.members ?? []) {
      if (seen.has(m.member_id)) throw invalid(`member ${m.member_id} appears twice in members`);
      seen.add(m.member_id);
      checkId(m.member_id, 'member_id');
    }
    const pinned = [...new Set(body.pinned_asset_ids ?? [])];
    await this.checkAssets(pinned);
    await this.engine.store.write(async (tx) => {
      const rows = [];
      for (const m of body.members ?? []) rows.push(await memberRow(tx.db, channelId, m, tx.now));
      const inserted = await insertChannel(tx.db, {
        channel_id: channelId,
        title: body.title,
        description: body.description ?? null,
        purpose: body.purpose ?? null,
        pinned_asset_ids: JSON.stringify(pinned),
        created_by: body.created_by ?? null,
        autonomy_policy: JSON.stringify({ ...DEFAULT_POLICY, ...body.autonomy_policy }),
        default_participation_mode: body.default_participation_mode ?? 'selected_only',
        paused: 0,
        metadata: body.metadata ? JSON.stringify(body.metadata) : null,
        last_seq: 0,
        counters: JSON.stringify(zeroCounters()),
        created_at_ms: tx.now,
        updated_at_ms: tx.now,
      });
      if (!inserted)
        throw new DaemonError(
          409,
          'channels',
          'channel_already_exists',
          `channel ${channelId} already exists`,
        );
      for (const r of rows) await upsertMemberRow(tx.db, r);
      await this.pin(tx.db, channelId, pinned);
      await this.record(tx, channelId, 'channel_created', { title: body.title, member_ids: [...seen] });
    });
    return this.get(channelId);
  }

  async summary(db: Executor, c: ChannelRow): Promise<ChannelSummary> {
    const stats = await messageStats(db, c.channel_id);
    return {
      channel_id: c.channel_id,
      title: c.title,
      description: c.description,
      purpose: c.purpose,
      paused: c.paused === 1,
      member_count: await countMembers(db, c.channel_id),
      message_count: stats.count,
      last_message_at_ms: stats.last_at,
      created_at_ms: c.created_at_ms,
      updated_at_ms: c.updated_at_ms,
    };
  }

  async list(query?: string): Promise<{ channels: ChannelSummary[] }> {
    const needle = query?.toLowerCase();
    const rows = (await allChannels(this.db)).filter(
      (c) =>
        !needle ||
        [c.channel_id, c.title, c.description ?? '', c.purpose ?? ''].some((f) =>
          f.toLowerCase().includes(needle),
        ),
    );
    const out: ChannelSummary[] = [];
    for (const c of rows) out.push(await this.summary(this.db, c));
    return { channels: out };
  }

  async members(db: Executor, c: ChannelRow): Promise<MemberView[]> {
    const out: MemberView[] = [];
    for (const m of await membersOf(db, c.channel_id))
      out.push({ ...memberView(c, m), display_name: await labelOf(db, m) });
    return out;
  }

  async get(id: string): Promise<ChannelDetailView> {
    const c = await this.require(this.db, id);
    const summary = await this.summary(this.db, c);
    const counters = { ...zeroCounters(), ...JSON.parse(c.counters) };
    const leases = await activeLeases(this.db, id);
    const roots = await rootAllowance(this.db, c, Date.now());
    const extra: Record<string, number> = {};
    for (const source of this.metricSources) Object.assign(extra, await source(id));
    return {
      ...summary,
      summary,
      members: await this.members(this.db, c),
      pinned_asset_ids: JSON.parse(c.pinned_asset_ids),
      created_by: c.created_by,
      autonomy_policy: policyOf(c),
      default_participation_mode:
        c.default_participation_mode as ChannelDetailView['default_participation_mode'],
      metadata: parseJson(c.metadata, {}),
      moderation_metrics: {
        active_leases: leases.length,
        active_public_speakers: new Set(leases.map((l) => l.holder_member_id)).size,
        pending_stimuli: 0,
        claimed_stimuli: 0,
        recent_autonomous_roots: roots.recent_autonomous_roots,
        active_autonomous_roots: roots.active_autonomous_roots,
        suppressed_stimuli: 0,
        ...counters,
        ...extra,
      },
    };
  }

  /** Partial: absent fields keep their value; `autonomy_policy` merges field by field (decision 336). */
  async update(id: string, body: UpdateChannelRequest): Promise<ChannelDetailView> {
    const pinned = body.pinned_asset_ids ? [...new Set(body.pinned_asset_ids)] : null;
    if (pinned) await this.checkAssets(pinned);
    let resumed = false;
    await this.engine.store.write(async (tx) => {
      const c = await this.require(tx.db, id);
      const patch: Partial<ChannelRow> = { updated_at_ms: tx.now };
      if (body.title !== undefined) patch.title = body.title;
      if (body.description !== undefined) patch.description = body.description;
      if (body.purpose !== undefined) patch.purpose = body.purpose;
      if (pinned) patch.pinned_asset_ids = JSON.stringify(pinned);
      if (body.autonomy_policy !== undefined)
        patch.autonomy_policy = JSON.stringify({ ...policyOf(c), ...body.autonomy_policy });
      if (body.default_participation_mode !== undefined)
        patch.default_participation_mode = body.default_participation_mode;
      if (body.paused !== undefined) {
        patch.paused = body.paused ? 1 : 0;
        resumed = c.paused === 1 && !body.paused;
      }
      if (body.metadata !== undefined)
        patch.metadata = body.metadata === null ? null : JSON.stringify(body.metadata);
      await updateChannel(tx.db, id, patch);
      if (pinned) await this.pin(tx.db, id, pinned);
      await this.record(tx, id, 'channel_updated', { fields: Object.keys(body) });
    });
    void resumed;
    return this.get(id);
  }

  async delete(id: string): Promise<{ accepted: true }> {
    await this.require(this.db, id);
    for (const guard of this.guards) {
      const reason = await guard(id);
      if (reason) throw new DaemonError(409, 'channels', 'channel_in_use', reason);
    }
    const cancel: string[] = [];
    await this.engine.store.write(async (tx) => {
      await this.require(tx.db, id);
      for (const l of await activeLeases(tx.db, id)) if (l.active_run_id) cancel.push(l.active_run_id);
      for (const hook of this.deleteHooks) await hook(tx, id);
      await this.assets()?.removeReferences({ domain: 'channels', owner_id: id }, tx.db);
      await deleteChannelRows(tx.db, id);
      await this.sink(tx, id, null, 'channel_deleted', {});
    });
    // Turns of a deleted channel have nowhere to post: their runs stop.
    for (const runId of cancel) await this.engine.cancel(runId).catch(() => undefined);
    return { accepted: true };
  }

  // ------------------------------------------------------------------ roster

  async listMembers(id: string): Promise<{ members: MemberView[] }> {
    const c = await this.require(this.db, id);
    return { members: await this.members(this.db, c) };
  }

  async upsertMember(id: string, body: MemberInput): Promise<MemberView> {
    checkId(body.member_id, 'member_id');
    await this.engine.store.write(async (tx) => {
      await this.require(tx.db, id);
      const row = await memberRow(tx.db, id, body, tx.now);
      const prev = await getMember(tx.db, id, body.member_id);
      await upsertMemberRow(tx.db, row);
      await this.record(tx, id, prev ? 'member_updated' : 'member_added', { member_id: body.member_id });
    });
    const c = await this.require(this.db, id);
    const m = (await getMember(this.db, id, body.member_id))!;
    return { ...memberView(c, m), display_name: await labelOf(this.db, m) };
  }

  /** A member that leaves loses any turn it holds: the lease ends and its run is cancelled (decision 342). */
  async removeMember(id: string, memberId: string): Promise<{ accepted: true }> {
    const cancel: string[] = [];
    await this.engine.store.write(async (tx) => {
      await this.require(tx.db, id);
      if (!(await deleteMemberRow(tx.db, id, memberId)))
        throw new DaemonError(
          404,
          'channels',
          'member_not_found',
          `member ${memberId} is not in channel ${id}`,
        );
      for (const l of await activeLeases(tx.db, id)) {
        if (l.holder_member_id !== memberId) continue;
        await updateLease(tx.db, l.turn_id, {
          state: 'released',
          end_reason: 'member_removed',
          ended_at_ms: tx.now,
        });
        await this.bump(tx, id, 'deliveries_without_post');
        if (l.active_run_id) cancel.push(l.active_run_id);
      }
      await this.record(tx, id, 'member_removed', { member_id: memberId });
    });
    for (const runId of cancel) await this.engine.cancel(runId).catch(() => undefined);
    return { accepted: true };
  }

  async leases(id: string) {
    await this.require(this.db, id);
    return { leases: (await activeLeases(this.db, id)).map(leaseView) };
  }
}
