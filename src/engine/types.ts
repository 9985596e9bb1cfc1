// Engine-side shapes of what callers submit (already validated by the feature layer).

export interface InputItem {
  type: 'text' | 'asset_reference' | 'board_reference' | 'inline_asset';
  [key: string]: unknown;
}

/** The full, replayable request stored with a run. */
export interface StoredRunRequest {
  provider?: string;
  source_plugin: string;
  source_kind: string;
  actor_id: string;
  content: string;
  input_items?: InputItem[];
  attachments?: unknown[];
  generation?: Record<string, unknown>;
  completion_requirements?: unknown[];
  metadata?: unknown;
  binding_keys?: string[];
  reply_targets?: unknown[];
  /** Run budget (our extension); the session budget applies on top. */
  budget?: import('./budgets.ts').Budget;
  /** The output contract in force for this run: the run's own, else the session's at submit time. */
  output_contract?: import('./output-contract.ts').OutputContract;
  /** Additional contexts `user_prompt_submit` hooks gave this input (added to its prompt). */
  hook_contexts?: string[];
  /**
   * The submitter's W3C `traceparent` (valid ones only): the run's trace continues it
   * (src/engine/telemetry.ts). Not part of the idempotency fingerprint.
   */
  trace_context?: string;
}

export function inputText(req: StoredRunRequest): string {
  if (req.input_items?.length) {
    return req.input_items
      .filter((i) => i.type === 'text')
      .map((i) => String(i.text ?? ''))
      .join('\n');
  }
  return req.content;
}

export type RunKind =
  | 'input'
  | 'scheduled_input'
  | 'observation_materialization'
  | 'scheduled_observation_materialization'
  | 'mailbox_delivery'
  | 'channel_delivery'
  | 'parent_clarification'
  | 'approval_resume'
  | 'user_question_resume'
  | 'goal_continuation';

/** Kinds the daemon itself created and can safely replay after a restart. */
export const DAEMON_OWNED_REPLAYABLE: ReadonlySet<string> = new Set([
  'scheduled_input',
  'mailbox_delivery',
  'observation_materialization',
  'scheduled_observation_materialization',
  'parent_clarification',
]);
