// The derivations domain's problems (api-core §8.5). Validation failures are answered without
// persisting anything; only an execution failure of a resolved subject becomes a `failed` record.
import { DaemonError } from '../../errors/daemon-error.ts';

const D = 'derivations';

export const derivationErrors = {
  notFound: (id: string) => new DaemonError(404, D, 'derivation_not_found', `derivation ${id} was not found`),
  invalid: (detail: string) => new DaemonError(400, D, 'invalid_derivation_request', detail),
  subjectNotFound: (detail: string) => new DaemonError(404, D, 'derivation_subject_not_found', detail),
  subjectInactive: (detail: string) => new DaemonError(409, D, 'derivation_subject_inactive', detail),
  unsupported: (detail: string) => new DaemonError(400, D, 'unsupported_derivation', detail),
  observationsUnavailable: () =>
    new DaemonError(
      400,
      D,
      'observations_unavailable',
      'observation subjects need the observations feature, which this daemon does not have',
    ),
  noBackend: (detail: string) => new DaemonError(400, D, 'transcription_backend_unavailable', detail),
  /** A retryable provider failure: nothing is persisted, the caller may simply try again. */
  backendRetryable: (status: number | null, detail: string) =>
    status === 429
      ? new DaemonError(429, D, 'transcription_rate_limited', detail)
      : new DaemonError(502, D, 'transcription_backend_failed', detail),
};
