// The `user_prompt_submit` hooks of a submitted input (ops-runtime §7.1): before anything is
// persisted, so a block refuses the submit and leaves no trace; the additional contexts they give
// ride with the run's stored request and reach its prompt (src/features/hooks/prompt-contexts.ts).
import { monotonicFactory } from 'ulid';
import { DaemonError } from '../errors/daemon-error.ts';
import type { HookPort } from './hook-port.ts';
import type { SubmitOptions } from './ports.ts';
import { inputText, type StoredRunRequest } from './types.ts';

const ulid = monotonicFactory();

export async function userPromptSubmit(
  hooks: HookPort,
  sessionId: string,
  request: StoredRunRequest,
  opts: SubmitOptions,
): Promise<StoredRunRequest> {
  // Daemon-made runs (schedules, mailboxes, resumes) are not a user's prompt.
  if ((opts.kind ?? 'input') !== 'input') return request;
  const v = await hooks.fire(
    {
      event: 'user_prompt_submit',
      // A client retry with the same idempotency key is the same invocation.
      identity: `${sessionId}:${opts.idempotency?.keyHash ?? ulid()}`,
      subject: request.source_kind,
      session_id: sessionId,
      payload: { prompt: inputText(request), source_kind: request.source_kind, actor_id: request.actor_id },
    },
    AbortSignal.timeout(60_000),
  );
  if (v.blocked)
    throw new DaemonError(
      409,
      'runs',
      'user_prompt_blocked',
      `a user_prompt_submit hook refused this input: ${v.reason}; nothing was stored`,
    );
  return v.additional_contexts.length > 0 ? { ...request, hook_contexts: v.additional_contexts } : request;
}
