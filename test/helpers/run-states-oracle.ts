// api-core §3.8 written out once for the tests, on purpose apart from src/engine/run-states.ts,
// so the daemon's table is checked against the spec and not against itself.
export type Status =
  | 'queued'
  | 'running'
  | 'waiting_for_approval'
  | 'waiting_for_user_question'
  | 'completed'
  | 'failed'
  | 'interrupted'
  | 'cancelled';

/** Legal transitions; self-transitions are no-ops and running→queued happens only in restart recovery. */
export const LEGAL: Record<Status, Status[]> = {
  queued: ['running', 'failed', 'cancelled'],
  running: [
    'waiting_for_approval',
    'waiting_for_user_question',
    'completed',
    'failed',
    'interrupted',
    'cancelled',
  ],
  waiting_for_approval: ['running', 'failed', 'interrupted', 'cancelled'],
  waiting_for_user_question: ['running', 'completed', 'failed', 'interrupted', 'cancelled'],
  completed: [],
  failed: [],
  interrupted: [],
  cancelled: [],
};
