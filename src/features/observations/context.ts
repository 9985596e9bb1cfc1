// What the observation modules share: the store, the assets port, the clock of a transaction, and
// the errors they answer with (domain `observations` for management, `observation_ingress` for uploads).
import type { Logger } from 'pino';
import type { Engine } from '../../engine/engine.ts';
import { DaemonError } from '../../errors/daemon-error.ts';
import type { Store } from '../../store/store.ts';
import type { AssetsPort } from '../assets/port.ts';

export interface ObservationsContext {
  store: Store;
  engine: Engine;
  /** Asked for lazily: the assets feature may be built after this one. */
  assets(): AssetsPort;
  log: Logger;
  /**
   * Derives an audio observation's canonical text (a transcript, written back onto the observation)
   * through the derivations feature; null when that feature is absent. Asked for lazily.
   */
  transcribe(observationId: string, signal?: AbortSignal): Promise<void>;
  /** Row locks (`FOR UPDATE`) only mean something on PostgreSQL; SQLite has one writer. */
  postgres: boolean;
}

export const sourceNotFound = (id: string) =>
  new DaemonError(
    404,
    'observations',
    'observation_source_not_found',
    `observation source ${id} was not found`,
  );
export const observationNotFound = (id: string) =>
  new DaemonError(404, 'observations', 'observation_not_found', `observation ${id} was not found`);
export const invalidSource = (detail: string) =>
  new DaemonError(400, 'observations', 'invalid_observation_source', detail);
export const captureOwned = (id: string, machine: string) =>
  new DaemonError(
    409,
    'observations',
    'capture_owned_source',
    `observation source ${id} is owned by capture agent ${machine}: rotate its tokens with POST /v1/capture-agent-provisions or revoke them with POST /v1/capture-agents/${machine}/revoke`,
  );
