// What derivations need of the observations feature, resolved by name at request time
// (`k.use('observations')`), so the derivations API works, answering a clear 400 for observation
// subjects, on a daemon built without observations. The observations feature's port satisfies it.

/** The fields of an observation a derivation reads. */
export interface ObservationSubjectRecord {
  observation_id: string;
  /** `active` or `purged`: purged observations are not derivable (api-core §8.3). */
  retention_state: string;
  /** The raw media asset (null once retention removed it). */
  asset_id: string | null;
  /** Uploader-supplied or daemon-derived canonical text, if any. */
  canonical_text_asset_id: string | null;
}

export interface ObservationsForDerivations {
  get(observationId: string): Promise<ObservationSubjectRecord | null>;
  /** False when the observation's source no longer allows materialization and derivation. */
  sourceAllowsUse(observationId: string): Promise<boolean>;
  /** Points the observation's default canonical text at a daemon-derived transcript; false when purged. */
  setCanonicalTextAsset(observationId: string, assetId: string): Promise<boolean>;
}
