// The completion boundary (a turn without tool calls): completion requirements first, then the
// output contract, then the output record and `completed`. Runs inside the same transaction that
// journals the final assistant message, so the decision is durable with the message itself.
import { lstat, realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { insertOutput } from '../store/repos/journal.ts';
import type { RunRow } from '../store/repos/runs.ts';
import type { WriteTx } from '../store/store.ts';
import {
  canonicalJson,
  compileSchema,
  extractJson,
  type OutputContract,
  repairMessage,
  validate,
} from './output-contract.ts';
import type { FinalizePort } from './ports.ts';
import type { RunState } from './run-state.ts';
import type { StoredRunRequest } from './types.ts';

/** Follow-up turns allowed to satisfy completion requirements before the run fails. */
export const MAX_COMPLETION_FOLLOWUPS = 2;

export type FinalizeResult = 'completed' | 'continue' | 'failed';

export async function finalize(
  engine: FinalizePort,
  tx: WriteTx,
  run: RunRow,
  state: RunState,
  text: string,
): Promise<FinalizeResult> {
  const { pos } = state;
  const request = JSON.parse(run.request) as StoredRunRequest;

  const missing = await missingWorkspaceFiles(state.workspaceRoot, request.completion_requirements ?? []);
  if (missing.length > 0) {
    if (pos.followups < MAX_COMPLETION_FOLLOWUPS) {
      await state.journal(tx, [
        {
          kind: 'completion_followup',
          payload: {
            attempt: pos.followups + 1,
            text: `This run is complete only when these workspace files exist: ${missing.join(', ')}. Create them (for example with write_file), then answer.`,
          },
        },
      ]);
      return 'continue';
    }
    await engine.failRunInTx(
      tx,
      run.run_id,
      `completion requirements unmet: missing workspace file(s) ${missing.join(', ')}`,
      'completion_requirements_unmet',
    );
    return 'failed';
  }

  let content = text;
  let metadata: Record<string, unknown> | undefined;
  const contract = request.output_contract as OutputContract | undefined;
  if (contract) {
    const parsed = extractJson(text);
    const error = 'error' in parsed ? parsed.error : validate(compileSchema(contract.schema), parsed.value);
    if (error) {
      if (pos.repairs < contract.max_repair_attempts) {
        await state.journal(tx, [
          {
            kind: 'contract_repair',
            payload: { attempt: pos.repairs + 1, error, text: repairMessage(error, contract.schema) },
          },
        ]);
        return 'continue';
      }
      await engine.failRunInTx(
        tx,
        run.run_id,
        `structured output contract unsatisfied after ${pos.repairs} repair attempts: ${error}`,
        'output_contract_unsatisfied',
      );
      return 'failed';
    }
    const value = (parsed as { value: unknown }).value;
    content = canonicalJson(value);
    metadata = { output_kind: 'structured_output', structured_output: value };
  }
  if (content.length > 0) await recordOutput(engine, tx, run, content, metadata);
  await engine.transition(tx, run.run_id, 'completed', { current: run });
  return 'completed';
}

export async function recordOutput(
  engine: FinalizePort,
  tx: WriteTx,
  run: RunRow,
  text: string,
  metadata?: Record<string, unknown>,
): Promise<void> {
  const request = JSON.parse(run.request) as StoredRunRequest;
  const record: Record<string, unknown> = {
    session_id: run.session_id,
    run_id: run.run_id,
    plugin: request.source_plugin,
    address: request.actor_id,
    content: text,
    parts: [{ type: 'text', text }],
    artifacts: [],
    source_kind: 'assistant_text',
  };
  if (metadata) record.metadata = metadata;
  await persistOutput(engine, tx, run, record);
}

/**
 * Persists one output record of a run with its `output` run event and stream event, and runs the
 * output hooks in the same transaction (its deliveries, one per reply target, commit with it).
 * Every path that persists an output (assistant text, emit_output) goes through here.
 */
export async function persistOutput(
  engine: FinalizePort,
  tx: WriteTx,
  run: RunRow,
  record: Record<string, unknown>,
): Promise<void> {
  await insertOutput(tx.db, run.session_id, run.run_id, tx.now, record);
  await engine.recordRunChange(tx, run, { type: 'output', output: record });
  await engine.events.append(tx, [
    { name: 'output', session_id: run.session_id, run_id: run.run_id, data: { output: record } },
  ]);
  await engine.outputRecorded(tx, run, record);
}

/** Paths (relative to the workspace) that do not exist as regular files inside it. */
async function missingWorkspaceFiles(root: string | null, reqs: unknown[]): Promise<string[]> {
  const paths = reqs
    .filter((r): r is { type: string; path: string } => (r as { type?: string }).type === 'workspace_file')
    .map((r) => r.path);
  if (paths.length === 0) return [];
  if (root === null) return paths;
  const missing: string[] = [];
  const realRoot = await realpath(root).catch(() => resolve(root));
  for (const p of paths) {
    const target = resolve(root, p);
    const rel = relative(resolve(root), target);
    if (isAbsolute(p) || rel.startsWith('..') || rel === '') {
      missing.push(p);
      continue;
    }
    try {
      const st = await lstat(target);
      const real = await realpath(target);
      const inside = !relative(realRoot, real).startsWith('..');
      if (!st.isFile() || !inside) missing.push(p);
    } catch {
      missing.push(p);
    }
  }
  return missing.map((p) => join(p));
}
