// The learnings API's refusals (api-collab §4): domain `learnings`, one code per rule, so a client
// can tell a bad body from a state conflict. Policy refusals are runtime/invalid_learning_policy.
import { DaemonError } from '../../errors/daemon-error.ts';

export const learningErrors = {
  invalidCandidate: (detail: string) =>
    new DaemonError(400, 'learnings', 'invalid_learning_candidate', detail),
  invalidLearning: (detail: string) => new DaemonError(400, 'learnings', 'invalid_learning', detail),
  invalidFilter: (detail: string) => new DaemonError(400, 'learnings', 'invalid_learning_filter', detail),
  secretContent: (what: string) =>
    new DaemonError(
      400,
      'learnings',
      'learning_content_rejected',
      `${what} looks like a credential or personal data (token shape, \`api-key:\`-style assignment, e-mail address...); learnings never store such text: rephrase it without the value`,
    ),
  candidateNotFound: (id: string) =>
    new DaemonError(404, 'learnings', 'learning_candidate_not_found', `no learning candidate \`${id}\``),
  learningNotFound: (id: string) =>
    new DaemonError(404, 'learnings', 'learning_not_found', `no learning \`${id}\``),
  candidateState: (id: string, state: string) =>
    new DaemonError(
      409,
      'learnings',
      'learning_candidate_state_conflict',
      `candidate \`${id}\` is ${state}; only pending or escalated candidates can be published or rejected`,
    ),
  learningState: (id: string, status: string, action: string) =>
    new DaemonError(
      409,
      'learnings',
      'learning_state_conflict',
      `learning \`${id}\` is ${status}; only active or provisional learnings can be ${action}`,
    ),
  conflict: (id: string) =>
    new DaemonError(
      409,
      'learnings',
      'learning_conflict',
      `an active learning in the same scope and kind (\`${id}\`) says something different about the same subject; publish with \`supersedes: "${id}"\` to replace it`,
    ),
  invalidPolicy: (detail: string) => new DaemonError(400, 'runtime', 'invalid_learning_policy', detail),
};
