// Signed external-action audit: every side-effecting tool call leaves a `started` and a
// `completed` record, hash-chained per run (prev_hash → record_hash) and signed with the
// daemon's Ed25519 key (`<state_root>/audit-signing.key`, created 0600 on first start).
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
    const pub = createPublicKey(key).export({ format: 'der', type: 'spki' });
    this.keyId = `ed25519:${createHash('sha256').update(pub).digest('hex').slice(0, 16)}`;
  }

  /** Loads the key from KHEISH_EXTERNAL_ACTION_AUDIT_SIGNING_KEY[_FILE] or the state root, creating it there once. */
  static load(stateRoot: string, env: NodeJS.ProcessEnv = process.env): ActionSigner {
    const inline = env.KHEISH_EXTERNAL_ACTION_AUDIT_SIGNING_KEY;
    const file = env.KHEISH_EXTERNAL_ACTION_AUDIT_SIGNING_KEY_FILE ?? join(stateRoot, 'audit-signing.key');
    if (inline) return new ActionSigner(createPrivateKey(inline));
    if (!existsSync(file)) {
      const { privateKey } = generateKeyPairSync('ed25519');
      writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
    }
    return new ActionSigner(createPrivateKey(readFileSync(file)));
  }

  publicKeyPem(): string {
    return createPublicKey(this.key).export({ format: 'pem', type: 'spki' }).toString();
  }

  sign(recordHash: string): string {
    return sign(null, Buffer.from(recordHash, 'hex'), this.key).toString('base64');
  }
}

export interface ActionInput {
  run_id: string;
  session_id: string;
  agent_id: string;
  tool_call_id: string;
  phase: 'started' | 'completed';
  kind: string;
  target: string;
  request: unknown;
  response?: unknown;
  outcome: 'pending' | 'succeeded' | 'failed' | 'skipped';
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
    principal_id: `session:${input.session_id}`,
    parent_principal_id: 'daemon',
    grant_id: null,
    phase: input.phase,
    kind: input.kind,
    target: input.target,
    request_digest: digest(input.request),
    response_digest: input.response === undefined ? null : digest(input.response),
    outcome: input.outcome,
    prev_hash: prevHash,
  };
  const recordHash = digest(body);
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

export { digest as actionDigest };
