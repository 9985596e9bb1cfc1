// Its own file so that leases.ts can throw it without importing run-guard.ts (which needs the
// engine ports, which name RunLeases): no import circle.

/** Thrown to stop an executor quietly: its run was cancelled, interrupted or is draining. */
export class RunStopped extends Error {
  /** Not a storage fault: the store does not count it as a write error (status `storage.ok`). */
  readonly expected = true;
}
