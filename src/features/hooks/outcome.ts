// A hook's answer (api-core §11.3): the outcome JSON, checked before any of it is used, and the
// failure kinds the failure policy tells apart (retryable or terminal).
import { z } from 'zod';

export const CONTRACT_VERSION = 1;

export const HookOutcome = z.object({
  contract_version: z.number().int().optional(),
  continue_execution: z.boolean().optional(),
  stop_reason: z.string().optional(),
  decision: z.enum(['approve', 'block']).optional(),
  permission: z.enum(['allow', 'deny', 'ask']).optional(),
  updated_input: z.record(z.string(), z.unknown()).optional(),
  updated_output: z.unknown().optional(),
  updated_permissions: z
    .array(
      z.object({
        scope: z.enum(['user', 'project', 'session']),
        tool_name_pattern: z.string().regex(/^(\*|[A-Za-z0-9_.:-]+\*?)$/),
        behavior: z.enum(['allow', 'deny', 'ask']),
        reason: z.string().optional(),
      }),
    )
    .optional(),
  additional_contexts: z.array(z.string()).optional(),
  initial_user_message: z.string().optional(),
  watch_paths: z.array(z.string()).optional(),
  retry: z.boolean().optional(),
});
export type HookOutcome = z.infer<typeof HookOutcome>;

/** A failed attempt. `retryable` failures are tried again inside the hook's budget. */
export class HookFailure extends Error {
  readonly retryable: boolean;
  /** The server's Retry-After, in ms (HTTP 429/503). */
  readonly retryAfterMs: number | null;
  constructor(message: string, retryable: boolean, retryAfterMs: number | null = null) {
    super(message);
    this.name = 'HookFailure';
    this.retryable = retryable;
    this.retryAfterMs = retryAfterMs;
  }
}

/** Parses an executor's answer; empty means "nothing to say" (continue). Malformed is terminal. */
export function parseOutcome(text: string): HookOutcome {
  const trimmed = text.trim();
  if (trimmed === '') return {};
  let raw: unknown;
  try {
    raw = JSON.parse(trimmed);
  } catch {
    throw new HookFailure('the hook answered with something that is not JSON', false);
  }
  return checkOutcome(raw);
}

export function checkOutcome(raw: unknown): HookOutcome {
  const parsed = HookOutcome.safeParse(raw);
  if (!parsed.success)
    throw new HookFailure(
      `malformed hook outcome: ${z.prettifyError(parsed.error).replaceAll('\n', ' ')}`,
      false,
    );
  const v = parsed.data.contract_version;
  if (v !== undefined && v > CONTRACT_VERSION)
    throw new HookFailure(
      `the outcome is for hook contract ${v}; this daemon speaks ${CONTRACT_VERSION}`,
      false,
    );
  return parsed.data;
}

/** Model answers may wrap their JSON in a code fence or surround it with prose. */
export function jsonOfModelText(text: string): string {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(text);
  if (fenced) return fenced[1]!;
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  return start >= 0 && end > start ? text.slice(start, end + 1) : text;
}

/** Whether an outcome stops the action it was asked about. */
export const blocks = (o: HookOutcome): boolean => o.continue_execution === false || o.decision === 'block';
