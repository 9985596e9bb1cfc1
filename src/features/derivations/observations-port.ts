// What derivations use of the observations feature: its port, resolved by name at request time
// (`k.use('observations')`), so a daemon built without observations still serves derivations of
// assets and session input and answers observation subjects with a clear 400.
import type { ObservationsPort } from '../observations/port.ts';

export type ObservationsForDerivations = Pick<
  ObservationsPort,
  'get' | 'sourceAllowsUse' | 'setCanonicalTextAsset'
>;

/** The fields of an observation a derivation reads. */
export type ObservationSubjectRecord = Pick<
  NonNullable<Awaited<ReturnType<ObservationsPort['get']>>>,
  'observation_id' | 'retention_state' | 'asset_id' | 'canonical_text_asset_id'
>;
