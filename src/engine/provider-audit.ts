// One signed ledger record per provider request attempt (ops-runtime §5.6): the route, the model,
// a digest of what was sent and how it ended. The caller refuses the request before it leaves
// while the audit is closed (ExternalAudit.require) and appends the record in the transaction
// that commits the attempt's outcome, so auditing costs no commit of its own.
import type { ModelRequest, ModelResponse } from '../models/driver.ts';
import type { ActionInput } from './external-actions.ts';

export interface ProviderCallSubject {
  run_id: string;
  session_id: string | null;
  agent_id: string | null;
  route_id: string;
}

export type ProviderAction = Omit<ActionInput, 'response' | 'outcome'>;

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
      messages: req.messages,
      tools: req.tools,
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
