// One signed ledger record per provider request attempt (ops-runtime §5.6): the route, the model,
// a digest of what was sent and how it ended. The caller refuses the request before it leaves
// while the audit is closed (ExternalAudit.require) and appends the record in the transaction
// that commits the attempt's outcome, so auditing costs no commit of its own.
import { createHash } from 'node:crypto';
import type { ModelRequest, ModelResponse } from '../models/driver.ts';
import type { ActionInput } from './external-actions.ts';

export interface ProviderCallSubject {
  run_id: string;
  session_id: string | null;
  agent_id: string | null;
  route_id: string;
}

export type ProviderAction = Omit<ActionInput, 'response' | 'outcome'>;

/**
 * The conversation and the tool schemas grow with the run: they are hashed from their JSON text
 * (the engine builds them in a fixed key order), so the record's canonical digest covers a few
 * short fields instead of re-sorting the whole history at every call.
 */
const sha256 = (v: unknown) => createHash('sha256').update(JSON.stringify(v)).digest('hex');

/** What is digested of a request: what the provider is told, not callbacks or signals. */
export function providerAction(who: ProviderCallSubject, req: Omit<ModelRequest, 'signal'>): ProviderAction {
  return {
    run_id: who.run_id,
    session_id: who.session_id,
    agent_id: who.agent_id,
    tool_call_id: null,
    phase: 'completed',
    kind: 'provider_request',
    target: `${who.route_id}/${req.model}`,
    request: {
      route_id: who.route_id,
      model: req.model,
      purpose: req.purpose ?? 'turn',
      call_index: req.call_index,
      messages_sha256: sha256(req.messages),
      tools_sha256: sha256(req.tools),
      generation: req.generation ?? null,
    },
  };
}

export function providerSucceeded(action: ProviderAction, response: ModelResponse): ActionInput {
  const seen = { text: response.text, tool_calls: response.tool_calls, usage: response.usage };
  return { ...action, response: seen, outcome: 'succeeded' };
}

export function providerFailed(
  action: ProviderAction,
  error: { status: number | null; message: string },
): ActionInput {
  return { ...action, response: { status: error.status, message: error.message }, outcome: 'failed' };
}
