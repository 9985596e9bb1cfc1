// `runs debug <run_id>`, `runs debug-artifact <run_id> <artifact_id>` and `runs prune` (ops-runtime
// §2.10): a run's debug bundle, one artifact's raw text, and the cleanup of old debug evidence.
import type { Command } from 'commander';
import { RunDebugResource, type RunDebugView, type RunRetentionPruneResponse } from '../sdk/run-debug.ts';
import { plural, table, time } from './format.ts';
import { nonEmpty, positiveInt } from './parse.ts';
import type { CliRuntime } from './runtime.ts';

function renderBundle(v: RunDebugView): string[] {
  const rows = v.artifacts.map((a) => [
    a.artifact_id,
    a.format,
    String(a.plaintext_bytes),
    a.truncated ? `yes (of ${a.original_bytes ?? '?'})` : 'no',
    a.encrypted ? `yes (${a.key_id ?? '?'})` : 'no',
    time(a.updated_at_ms) ?? '',
  ]);
  return [
    `run ${v.run_id}: ${plural(v.artifacts.length, 'artifact')} captured at level ${v.level}`,
    ...table(['artifact', 'format', 'bytes', 'truncated', 'encrypted', 'updated'], rows),
    `read one with: kheish-daemon runs debug-artifact ${v.run_id} <artifact>`,
  ];
}

function renderPrune(r: RunRetentionPruneResponse): string[] {
  const lines = [
    `${r.dry_run ? 'dry run: would prune' : 'pruned'} ${plural(
      r.dry_run ? r.candidate_run_ids.length : r.pruned_debug_run_ids.length,
      'debug bundle',
    )} (${r.dry_run ? r.candidate_debug_bytes : r.pruned_debug_bytes} bytes) of runs ended before ${time(r.cutoff_ms)}; ${r.matched_run_count} matched`,
  ];
  for (const id of r.dry_run ? r.candidate_run_ids : r.pruned_debug_run_ids) lines.push(`  ${id}`);
  return lines;
}

export function registerRunDebug(runs: Command, rt: CliRuntime): void {
  const api = () => new RunDebugResource(rt.client());
  runs
    .command('debug')
    .description("list a run's debug bundle (artifacts captured while the debug level was not off; admin)")
    .argument('<run_id>')
    .action(async (runId: string) => {
      rt.emit(await api().get(runId), renderBundle);
    });
  runs
    .command('debug-artifact')
    .description('print one debug artifact as the daemon stores it (raw text, decrypted; admin)')
    .argument('<run_id>')
    .argument('<artifact_id>', 'an id listed by `runs debug`')
    .action(async (runId: string, artifactId: string) => {
      const text = await api().artifact(runId, artifactId);
      rt.io.stdout(text.endsWith('\n') ? text : `${text}\n`);
    });
  runs
    .command('prune')
    .description('remove debug bundles of terminal runs older than a cutoff (runs and events stay)')
    .requiredOption('--older-than-ms <ms>', 'only runs that ended longer ago than this', positiveInt)
    .option('--session-id <id>', 'only runs of this session', nonEmpty)
    .option('--limit <n>', 'at most n bundles, oldest first', positiveInt)
    .option('--dry-run', 'list what would be removed, remove nothing')
    .action(async (flags: { olderThanMs: number; sessionId?: string; limit?: number; dryRun?: boolean }) => {
      const result = await api().prune({
        older_than_ms: flags.olderThanMs,
        ...(flags.sessionId !== undefined ? { session_id: flags.sessionId } : {}),
        ...(flags.limit !== undefined ? { limit: flags.limit } : {}),
        dry_run: flags.dryRun ?? false,
      });
      rt.emit(result, renderPrune);
    });
}
