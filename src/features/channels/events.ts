// Channel changes on the daemon's durable event log, so `GET /v1/channels/{id}/stream` replays them
// after a Last-Event-ID like run and session streams do (decision 347). They are stored under the
// scope key `channels/{id}` in the session column: a session id can never contain a slash, so no
// session stream ever sees them, and the stream reads through the same index.
import type { EventLog } from '../../store/event-log.ts';
import type { WriteTx } from '../../store/store.ts';

export const channelScope = (channelId: string) => `channels/${channelId}`;

export type ChannelEventSink = (
  tx: WriteTx,
  channelId: string,
  seq: number | null,
  kind: string,
  payload: Record<string, unknown>,
) => Promise<void>;

export function channelEvent(events: EventLog): ChannelEventSink {
  return (tx, channelId, seq, kind, payload) =>
    events.append(tx, [
      {
        name: 'channel_event',
        session_id: channelScope(channelId),
        data: { channel_id: channelId, seq, kind, at_ms: tx.now, payload },
      },
    ]);
}
