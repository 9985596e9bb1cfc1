// What other features may use of derivations, asked for as `k.use<DerivationsPort>('derivations')`:
// e.g. a materialization that wants an audio observation's transcript before it builds the run,
// or model-input rendering that wants an audio asset's transcript, gets the same durable,
// cached and single-flighted record the API returns.
import type { CreateDerivationRequest, DerivationView } from './schema.ts';

export interface DerivationsPort {
  /** POST /v1/derivations semantics: the cached record (`hit`) or a new one (`miss`); throws DaemonError. */
  create(
    req: CreateDerivationRequest,
    flags: { force_refresh: boolean; retry_failed: boolean },
  ): Promise<DerivationView>;
  /** `404 derivations/derivation_not_found` when unknown. */
  get(derivationId: string): Promise<DerivationView>;
}
