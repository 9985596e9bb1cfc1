// Autonomous roots (api-collab §1.3; decision 344): a root message whose sender is a session member
// opens a subject no human asked for. Such roots are bounded per channel by
// max_autonomous_root_posts_per_hour, max_active_autonomous_roots (roots whose thread still has a
// turn in progress or waiting) and quiet_period_ms_after_root_post since the previous one.
import { DaemonError } from '../../errors/daemon-error.ts';
import { activeLeases, autonomousRootsSince, type ChannelRow } from '../../store/repos/channels.ts';
import type { Executor } from '../../store/schema.ts';
import { policyOf } from './views.ts';

const HOUR_MS = 3_600_000;

export interface RootAllowance {
  allowed: boolean;
  reason?: 'paused' | 'quiet_period' | 'hourly_limit' | 'active_limit';
  /** When a refused root may be tried again (absent for the active-roots limit: it frees on progress). */
  retry_at_ms?: number;
  recent_autonomous_roots: number;
  active_autonomous_roots: number;
}

export async function rootAllowance(db: Executor, c: ChannelRow, now: number): Promise<RootAllowance> {
  const policy = policyOf(c);
  const recent = (await autonomousRootsSince(db, c.channel_id, now - HOUR_MS)).sort(
    (a, b) => a.created_at_ms - b.created_at_ms,
  );
  let active = 0;
  for (const t of recent) {
    const busy =
      (await activeLeases(db, c.channel_id, t.thread_root_message_id)).length > 0 ||
      JSON.parse(t.queued_member_ids).length > 0;
    if (busy) active++;
  }
  const counts = { recent_autonomous_roots: recent.length, active_autonomous_roots: active };
  if (c.paused === 1) return { allowed: false, reason: 'paused', ...counts };
  const last = recent.at(-1);
  if (last && last.created_at_ms + policy.quiet_period_ms_after_root_post > now)
    return {
      allowed: false,
      reason: 'quiet_period',
      retry_at_ms: last.created_at_ms + policy.quiet_period_ms_after_root_post,
      ...counts,
    };
  if (recent.length >= policy.max_autonomous_root_posts_per_hour)
    return {
      allowed: false,
      reason: 'hourly_limit',
      retry_at_ms: recent[recent.length - policy.max_autonomous_root_posts_per_hour]!.created_at_ms + HOUR_MS,
      ...counts,
    };
  if (active >= policy.max_active_autonomous_roots)
    return { allowed: false, reason: 'active_limit', ...counts };
  return { allowed: true, ...counts };
}

export function rootRefused(a: RootAllowance, now: number): DaemonError {
  const retry = a.retry_at_ms === undefined ? undefined : Math.max(0, a.retry_at_ms - now);
  return new DaemonError(
    429,
    'channels',
    'autonomous_root_limited',
    `the channel takes no new autonomous subject now (${a.reason}); post in an existing thread instead`,
    retry === undefined ? {} : { 'retry-after': String(Math.ceil(retry / 1000)) },
    { reason: a.reason, ...(retry === undefined ? {} : { retry_after_ms: retry }) },
  );
}
