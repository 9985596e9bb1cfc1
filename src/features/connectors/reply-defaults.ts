// How the connectors feature reaches the deliveries feature's session reply-target defaults
// (api-collab §6.2, §7). The SessionReplyDefaultsPort methods are used when the deliveries service
// offers them; otherwise its `setSessionTargets` (the `/v1/sessions/{id}/reply-targets` write)
// does the §7 write-back, and the delete clean-up rewrites each session's defaults without the
// handles that name the deleted connector through that same write.
import type { Engine } from '../../engine/engine.ts';
import { sessionsWithReplyTargets } from '../../store/repos/connectors.ts';
import type { DeliveriesPort, ReplyHandle } from '../deliveries/port.ts';
import type { ConnectorKind, SessionReplyDefaultsPort } from './port.ts';
import { namesConnector } from './references.ts';

type DeliveriesService = DeliveriesPort &
  SessionReplyDefaultsPort & {
    setSessionTargets?(sessionId: string, requests: unknown[] | null): Promise<unknown>;
  };

export function replyDefaultsOf(
  d: DeliveriesService,
  engine: Engine,
): DeliveriesPort & SessionReplyDefaultsPort {
  const set = d.setSessionTargets?.bind(d);
  return {
    registerPlugin: (p) => d.registerPlugin(p),
    normalizeTargets: (r) => d.normalizeTargets(r),
    sessionReplyDefaults: d.sessionReplyDefaults?.bind(d),
    writeBackReplyDefaults:
      d.writeBackReplyDefaults?.bind(d) ??
      (set
        ? async (sessionId: string, targets: ReplyHandle[]) => {
            await set(sessionId, targets);
          }
        : undefined),
    clearConnectorTargets:
      d.clearConnectorTargets?.bind(d) ??
      (set
        ? async (kind: ConnectorKind, name: string) => {
            let changed = 0;
            for (const s of await sessionsWithReplyTargets(engine.store.db)) {
              const handles = JSON.parse(s.reply_targets) as ReplyHandle[];
              const kept = handles.filter((h) => !namesConnector(h, kind, name));
              if (kept.length === handles.length) continue;
              await set(s.session_id, kept.length ? kept : null);
              changed++;
            }
            return changed;
          }
        : undefined),
  };
}
