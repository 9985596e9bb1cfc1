// What other features use of observations, asked for as `k.use<ObservationsPort>('observations')`
// (derivations read an observation and attach the canonical text they derived; schedules submit
// an embedded materialization).
import type { WireView } from '../../engine/views.ts';
import type { MaterializationRequest, ObservationView } from './schema.ts';

export interface ObservationsPort {
  /** The observation (with `retention_state`), or null when unknown. */
  get(observationId: string): Promise<ObservationView | null>;
  /** Whether the observation's source still allows materialization and derivation. */
  sourceAllowsUse(observationId: string): Promise<boolean>;
  /**
   * Points the observation at a canonical-text asset (adding the hard `canonical_text` reference in
   * the same transaction); false when the observation is unknown or purged.
   */
  setCanonicalTextAsset(observationId: string, assetId: string): Promise<boolean>;
  /**
   * Checks the embedded materialization of a new schedule (shape, request, the sources it names)
   * and returns it parsed: `400 observations/invalid_materialization_request`, or the 404/403/409 a
   * materialization of that selection would answer.
   */
  checkScheduled(raw: unknown): Promise<MaterializationRequest>;
  /** Submits the run of a materialization request (202 semantics: the run is durable on return). */
  materialize(
    body: MaterializationRequest,
    kind?: 'observation_materialization' | 'scheduled_observation_materialization',
  ): Promise<WireView>;
}
