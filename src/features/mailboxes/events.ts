// Durable trace events about mailbox activity, on the target session's stream.
import type { Engine } from '../../engine/engine.ts';
import type { MailboxMessageRow } from '../../store/repos/mailboxes.ts';
import type { WriteTx } from '../../store/store.ts';

export async function mailboxTrace(
  engine: Engine,
  tx: WriteTx,
  kind: string,
  m: Pick<MailboxMessageRow, 'message_id' | 'to_session_id' | 'to_agent_id' | 'from_agent_id' | 'kind'>,
  extra: Record<string, unknown> = {},
): Promise<void> {
  await engine.events.append(tx, [
    {
      name: 'trace',
      session_id: m.to_session_id,
      run_id: typeof extra.run_id === 'string' ? extra.run_id : null,
      data: {
        trace: {
          kind,
          session_id: m.to_session_id,
          message_id: m.message_id,
          message_kind: m.kind,
          from_agent_id: m.from_agent_id,
          to_agent_id: m.to_agent_id,
          ...extra,
        },
      },
    },
  ]);
}
