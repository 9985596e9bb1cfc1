// Signed external-action audit: every action that leaves the daemon (a side-effecting tool call,
// an MCP call, a provider request, a command or http hook) leaves records hash-chained per run
// (prev_hash → record_hash; actions outside any run chain under `daemon`) and signed with the
// daemon's Ed25519 key. Record encoding: sha256 over the canonical JSON of the record without
// its hash and signature fields (docs/decisions.md #180). The fail-closed gate is external-audit.ts.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { monotonicFactory } from 'ulid';
import type { Executor } from '../store/schema.ts';
import { canonicalJson } from './output-contract.ts';

const ulid = monotonicFactory();
const digest = (v: unknown) => createHash('sha256').update(canonicalJson(v)).digest('hex');

export class ActionSigner {
  readonly keyId: string;
  private readonly key: KeyObject;
  private constructor(key: KeyObject) {
    this.key = key;
    this.keyId = keyIdOf(createPublicKey(key));
  }

  /**
   * Loads the key: KHEISH_EXTERNAL_ACTION_AUDIT_SIGNING_KEY (PEM), else the file named by
   * KHEISH_EXTERNAL_ACTION_AUDIT_SIGNING_KEY_FILE (which must exist: a named key is never replaced
   * by a fresh one), else `<state_root>/audit-signing.key`, created 0600 on first start. Throws
   * AuditKeyError (its message names the file, never key bytes).
   */
  static load(stateRoot: string, env: NodeJS.ProcessEnv = process.env): ActionSigner {
    return ActionSigner.fromPem(readKeySource(auditKeySource(stateRoot, env), true));
  }

  static fromPem(source: { pem: string | Buffer; where: string }): ActionSigner {
    let key: KeyObject;
    try {
      key = createPrivateKey(source.pem);
    } catch {
      throw new AuditKeyError(`${source.where} is not a PEM private key`);
    }
    if (key.asymmetricKeyType !== 'ed25519')
      throw new AuditKeyError(
        `${source.where} is a ${key.asymmetricKeyType} key; the audit signs with Ed25519`,
      );
    return new ActionSigner(key);
  }

  publicKeyPem(): string {
    return createPublicKey(this.key).export({ format: 'pem', type: 'spki' }).toString();
  }

  sign(recordHash: string): string {
    return sign(null, Buffer.from(recordHash, 'hex'), this.key).toString('base64');
  }
}

export class AuditKeyError extends Error {}

/** `ed25519:` and the first 16 hex digits of the sha256 of the public key (DER, SPKI). */
export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return `ed25519:${createHash('sha256').update(der).digest('hex').slice(0, 16)}`;
}

/** Where the signing key comes from: inline (env), a named file, or the state root's default file. */
export type AuditKeySource = { kind: 'inline'; pem: string } | { kind: 'file'; path: string; named: boolean };

export function auditKeySource(stateRoot: string, env: NodeJS.ProcessEnv = process.env): AuditKeySource {
  const inline = env.KHEISH_EXTERNAL_ACTION_AUDIT_SIGNING_KEY;
  if (inline) return { kind: 'inline', pem: inline };
  const named = env.KHEISH_EXTERNAL_ACTION_AUDIT_SIGNING_KEY_FILE;
  if (named) return { kind: 'file', path: resolve(named), named: true };
  return { kind: 'file', path: join(stateRoot, 'audit-signing.key'), named: false };
}

/** The PEM of a key source; the default file is created once when `create` is set. */
export function readKeySource(
  source: AuditKeySource,
  create: boolean,
): { pem: string | Buffer; where: string } {
  if (source.kind === 'inline') return { pem: source.pem, where: 'KHEISH_EXTERNAL_ACTION_AUDIT_SIGNING_KEY' };
  if (!existsSync(source.path)) {
    if (source.named || !create)
      throw new AuditKeyError(`the audit signing key file ${source.path} does not exist`);
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(source.path, privateKey.export({ format: 'pem', type: 'pkcs8' }), {
      mode: 0o600,
      flag: 'wx',
    });
  }
  try {
    return { pem: readFileSync(source.path), where: `the audit signing key file ${source.path}` };
  } catch (err) {
    throw new AuditKeyError(
      `the audit signing key file ${source.path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
}

/** The chain of actions that belong to no run (a hook fired outside any run). */
export const DAEMON_CHAIN = 'daemon';

export interface ActionInput {
  /** The run whose chain the record joins (DAEMON_CHAIN outside any run). */
  run_id: string;
  session_id: string | null;
  agent_id: string | null;
  tool_call_id: string | null;
  phase: 'started' | 'completed';
  kind: string;
  target: string;
  request: unknown;
  response?: unknown;
  outcome: 'pending' | 'succeeded' | 'failed' | 'skipped' | 'refused';
}

/** Appends one signed record to the run's chain, inside the caller's transaction. */
export async function appendExternalAction(
  db: Executor,
  signer: ActionSigner,
  input: ActionInput,
  now: number,
): Promise<void> {
  const last = await db
    .selectFrom('external_actions')
    .select(['seq', 'record'])
    .where('run_id', '=', input.run_id)
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  const prevHash = last ? (JSON.parse(last.record) as { record_hash: string }).record_hash : '0'.repeat(64);
  const body = {
    action_id: `action-${ulid().toLowerCase()}`,
    timestamp_ms: now,
    session_id: input.session_id,
    agent_id: input.agent_id,
    run_id: input.run_id,
    tool_call_id: input.tool_call_id,
    principal_id: input.session_id ? `session:${input.session_id}` : 'daemon',
    parent_principal_id: input.session_id ? 'daemon' : null,
    grant_id: null,
    phase: input.phase,
    kind: input.kind,
    target: input.target,
    request_digest: digest(input.request),
    response_digest: input.response === undefined ? null : digest(input.response),
    outcome: input.outcome,
    prev_hash: prevHash,
  };
  const recordHash = recordHashOf(body);
  const record = {
    ...body,
    record_hash: recordHash,
    signature_alg: 'ed25519',
    key_id: signer.keyId,
    signature: signer.sign(recordHash),
  };
  await db
    .insertInto('external_actions')
    .values({
      action_id: body.action_id,
      run_id: input.run_id,
      seq: Number(last?.seq ?? 0) + 1,
      record: JSON.stringify(record),
    })
    .execute();
}

export async function externalActionsOfRun(db: Executor, runId: string): Promise<unknown[]> {
  const rows = await db
    .selectFrom('external_actions')
    .select('record')
    .where('run_id', '=', runId)
    .orderBy('seq')
    .execute();
  return rows.map((r) => JSON.parse(r.record));
}

/** The hash a record carries: over every field but the hash and the signature fields. */
export function recordHashOf(record: Record<string, unknown>): string {
  const { record_hash: _h, signature_alg: _a, key_id: _k, signature: _s, ...body } = record;
  return digest(body);
}

export { digest as actionDigest };
