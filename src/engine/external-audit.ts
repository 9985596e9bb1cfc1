// The fail-closed gate in front of the external-action ledger (ops-runtime §5.6): while the
// signing key cannot be loaded, nothing that leaves the daemon runs (provider requests, tool side
// effects, MCP calls, command and http hooks) and the daemon reports itself not ready; a ledger
// write that fails refuses the action it was for (the record shares its transaction).
import { realpathSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import type { Executor } from '../store/schema.ts';
import {
  type ActionInput,
  ActionSigner,
  AuditKeyError,
  type AuditKeySource,
  appendExternalAction,
  auditKeySource,
  readKeySource,
} from './external-actions.ts';

/** The typed refusal: a run that meets it fails with error_code `external_audit_unavailable`. */
export class ExternalAuditUnavailable extends Error {
  readonly code = 'external_audit_unavailable';
}

export const AUDIT_KEY_ACTION =
  'give the daemon a readable Ed25519 key (KHEISH_EXTERNAL_ACTION_AUDIT_SIGNING_KEY_FILE, or <state_root>/audit-signing.key) and restart it; see docs/security.md';

export class ExternalAudit {
  readonly signer: ActionSigner | null;
  /** Why the key could not be loaded (null when it was). */
  readonly keyError: string | null;
  /** The key file is inside the state root: a copy of the state root carries the key with the ledger. */
  readonly keyInStateRoot: boolean;
  readonly keySource: AuditKeySource;
  private writeError: string | null = null;

  private constructor(
    source: AuditKeySource,
    signer: ActionSigner | null,
    keyError: string | null,
    inRoot: boolean,
  ) {
    this.keySource = source;
    this.signer = signer;
    this.keyError = keyError;
    this.keyInStateRoot = inRoot;
  }

  /** Never throws: a key that cannot be loaded leaves the audit closed (reads are still served). */
  static open(stateRoot: string, env: NodeJS.ProcessEnv = process.env): ExternalAudit {
    const source = auditKeySource(stateRoot, env);
    const inRoot = source.kind === 'file' && isInside(stateRoot, source.path);
    try {
      return new ExternalAudit(source, ActionSigner.fromPem(readKeySource(source, true)), null, inRoot);
    } catch (err) {
      const why =
        err instanceof AuditKeyError
          ? err.message
          : `the audit signing key cannot be loaded: ${(err as Error).message}`;
      return new ExternalAudit(source, null, why, inRoot);
    }
  }

  /** Why external actions are refused (or were, at the last ledger write), or null. */
  problem(): string | null {
    if (this.keyError) return `the external-action audit is unavailable: ${this.keyError}`;
    if (this.writeError) return `the external-action ledger could not be written: ${this.writeError}`;
    return null;
  }

  /** Throws ExternalAuditUnavailable unless the ledger can sign: called before an action starts. */
  require(): ActionSigner {
    if (!this.signer) throw new ExternalAuditUnavailable(`external action refused: ${this.problem()}`);
    return this.signer;
  }

  /** Appends one record inside the caller's transaction; a failed write refuses the action. */
  async append(db: Executor, input: ActionInput, now: number): Promise<void> {
    const signer = this.require();
    try {
      await appendExternalAction(db, signer, input, now);
    } catch (err) {
      this.writeError = (err as Error).message;
      throw new ExternalAuditUnavailable(
        `external action refused: the external-action ledger could not be written: ${this.writeError}`,
      );
    }
    this.writeError = null;
  }
}

function isInside(root: string, file: string): boolean {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return resolve(p);
    }
  };
  // The file may not exist yet: compare its directory.
  const rel = relative(real(root), resolve(real(dirname(file)), file.split('/').pop()!));
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith('/'));
}
