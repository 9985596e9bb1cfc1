// The OpenAPI description shared by every SSE route: a `text/event-stream` 200 answer (not JSON),
// the `cursor` query parameter and the `Last-Event-ID` header. Clients generated from the document
// (and the SDK's types test) learn from it that these routes stream.
import { z } from 'zod';

const FRAMES =
  'Server-sent events. Each data frame has `id:` (a decimal event id), `event:` (trace, run_updated, ' +
  'output, session_state_changed, session_snapshot, interrupted, runtime_updated, stream_gap, ...) and ' +
  'one `data:` line of JSON; `heartbeat` frames carry no id. Reconnect with `Last-Event-ID` or ' +
  '`?cursor=` (the larger wins) to replay what was missed.';

/** `response` of an SSE route's schema. */
export const sseResponse = {
  200: {
    description: FRAMES,
    content: {
      'text/event-stream': {
        schema: z.string().describe('a stream of `id:`/`event:`/`data:` frames separated by blank lines'),
      },
    },
  },
};

/**
 * `cursor` stays a raw value here (one string, or several when repeated) so the stream itself
 * answers a bad one with `events/invalid_event_cursor`, as the spec asks.
 */
export const sseQuery = {
  cursor: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .describe('replay events after this decimal event id'),
};

/** The query of the session and run streams (the daemon-wide stream adds its filters to sseQuery). */
export const sseQuerystring = z.object(sseQuery);

/** Loose: the other request headers (authorization, accept, ...) pass through untouched. */
export const sseHeaders = z.looseObject({
  'last-event-id': z.string().optional().describe('replay events after this decimal event id'),
});
