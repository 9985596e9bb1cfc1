// Decrypted credentials of the secret slots that routes name in `auth_ref`, kept in memory so
// route resolution stays synchronous. Reloaded at boot and after every secret write or delete.
import type { SecretStore } from '../secrets/secret-store.ts';
import type { SecretValue } from './drivers/index.ts';

export class SlotCache {
  private readonly secrets: SecretStore;
  private readonly refs: string[];
  /** Slots of runtime-added routes (routes.<id>.api_key), replaced as a whole by `trackLive`. */
  private liveRefs: string[] = [];
  private values = new Map<string, SecretValue>();
  /** The one secret of every slot in the store, masked wherever a step trace shows tool data. */
  private masks: string[] = [];

  constructor(secrets: SecretStore, refs: string[]) {
    this.secrets = secrets;
    this.refs = [...new Set(refs)];
  }

  /**
   * The slots the runtime-added routes read; they load on the next `reload`. Returns whether the
   * set changed (a reload is then needed before those routes can see their keys).
   */
  trackLive(refs: string[]): boolean {
    const next = [...new Set(refs)].sort();
    if (JSON.stringify(next) === JSON.stringify(this.liveRefs)) return false;
    this.liveRefs = next;
    return true;
  }

  readonly lookup = (ref: string): SecretValue | undefined => this.values.get(ref);

  /** Every slot's secret value (not only the ones routes name), as of the last reload. */
  readonly secretValues = (): readonly string[] => this.masks;

  async reload(): Promise<void> {
    const next = new Map<string, SecretValue>();
    for (const ref of new Set([...this.refs, ...this.liveRefs])) {
      try {
        const state = await this.secrets.getSecretState(ref);
        // API-key states carry organization/project for OpenAI; opaque secrets are a bare value.
        next.set(
          ref,
          typeof state.api_key === 'string'
            ? (state as SecretValue)
            : String(state.value ?? state.access_token ?? ''),
        );
      } catch {
        // Missing or unreadable: the route reports itself not ready.
      }
    }
    this.values = next;
    const masks: string[] = [];
    try {
      for (const slot of await this.secrets.list()) {
        const value = await this.secrets.getSecretValue(slot.slot_id).catch(() => undefined);
        if (value) masks.push(value);
      }
    } catch {
      // A locked or key-less store: nothing can be read, and no tool can have read it either.
    }
    this.masks = masks;
  }

  /** Slots named by routes that do not exist in the store (startup refuses them). */
  async missing(): Promise<string[]> {
    const out: string[] = [];
    for (const ref of this.refs) if (!(await this.secrets.status(ref))) out.push(ref);
    return out;
  }
}
