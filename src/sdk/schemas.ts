// The minimum each response must carry for the client to work. Anything more is passed through
// untouched; a miss means client and daemon disagree on the schema (CLI exit code 8).
import { z } from 'zod';
import { DaemonSchemaError } from './errors.ts';

const pageInfo = z.looseObject({
  limit: z.number(),
  has_more: z.boolean(),
  next_cursor: z.string().optional(),
});

const listOf = <T extends z.ZodType>(item: T) =>
  z.union([z.array(item), z.looseObject({ items: z.array(item), pagination: pageInfo })]);

export const runView = z.looseObject({ run_id: z.string(), session_id: z.string(), status: z.string() });
export const sessionView = z.looseObject({ session_id: z.string() });
export const sessionSummary = z.looseObject({ session_id: z.string() });
export const statusView = z.looseObject({ status: z.string(), ready: z.boolean() });
export const capabilitiesView = z.looseObject({ api_revision: z.number() });
export const runList = listOf(runView);
export const sessionList = listOf(sessionSummary);
export const runEvents = z.array(z.looseObject({ event: z.looseObject({ type: z.string() }) }));
export const sessionEventLog = z.looseObject({ run_events: z.array(z.unknown()).optional() });
export const interruptResponse = z.looseObject({ interrupted: z.boolean() });
export const authSlotStatus = z.looseObject({
  slot_id: z.string(),
  provider: z.string(),
  mode: z.string(),
  summary: z.string(),
});
export const authSlotList = z.array(authSlotStatus);
export const acceptedResponse = z.looseObject({ accepted: z.boolean() });

/** Checks `body` against `schema`; returns it unchanged (typed as T) or throws DaemonSchemaError. */
export function expectShape<T>(schema: z.ZodType, body: unknown, where: string): T {
  const result = schema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue?.path.length ? issue.path.join('.') : '(body)';
    throw new DaemonSchemaError(where, `${path}: ${issue?.message ?? 'invalid'}`);
  }
  return body as T;
}
