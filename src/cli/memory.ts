// `memory context|search|policy get|set` (docs/memory.md): a session's memory projection and search,
// and the recovered run-memory policy; `runtime run-memory-policy get|set` (ops-runtime §2.7) are
// the same two policy commands under their spec name. Each command is one SDK call.
import type { Command } from 'commander';
import {
  MemoryResource,
  type MemorySearchResult,
  type RunMemoryPolicy,
  type SessionMemoryContextView,
} from '../sdk/memory.ts';
import type { JsonObject } from '../sdk/types.ts';
import { keyValues, oneLine, table, time } from './format.ts';
import { positiveInt } from './parse.ts';
import { type ReplaceFlags, replaceInput, replaceOptions } from './replace-input.ts';
import type { CliRuntime } from './runtime.ts';

// The policy is replaced whole and left-out fields take the daemon's defaults, but an empty policy
// is refused: `--reset` names one field at its default value, so the daemon fills in the rest.
const RESET_POLICY = { enabled: true };

const renderPolicy = (p: JsonObject) =>
  keyValues(
    Object.entries(p).map(([k, v]) => [
      k,
      v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v),
    ]),
  );

function renderContext(c: SessionMemoryContextView): string[] {
  const scopes = c.learning_scopes.map((s) => `${s.kind}:${s.id}`).join(' → ');
  const lines = [`session: ${c.session_id}`, `learning scopes: ${scopes}`, '', 'recovered_memory:'];
  if (!c.recovered_memory.length) lines.push('  (none)');
  for (const r of c.recovered_memory)
    lines.push(
      `  ${r.run_id}  ${r.status}  ${time(r.captured_at_ms)}  score ${r.score}`,
      `    ${oneLine(r.summary, 100)}`,
    );
  lines.push('', 'learned_context:');
  if (!c.learned_context.length) lines.push('  (none)');
  for (const l of c.learned_context)
    lines.push(
      `  ${l.learning_id}  ${l.kind}  ${(l.scope as JsonObject).kind}:${(l.scope as JsonObject).id}`,
      `    ${oneLine(String(l.content), 100)}`,
    );
  lines.push('', `visible skills: ${c.visible_skills.map((s) => String(s.name)).join(', ') || '(none)'}`);
  return lines;
}

function renderResults(results: MemorySearchResult[], truncated: boolean): string[] {
  if (!results.length) return ['nothing found'];
  return [
    ...table(
      ['KIND', 'SOURCE', 'SCORE', 'WHEN', 'PROMPT', 'EXCERPT'],
      results.map((r) => [
        r.kind,
        r.source_id,
        String(r.score),
        r.timestamp_ms ? (time(r.timestamp_ms) ?? '-') : '-',
        r.prompt_eligible ? 'yes' : 'no',
        oneLine(r.excerpt, 60),
      ]),
    ),
    ...(truncated ? ['(more results: raise --limit, up to 50)'] : []),
  ];
}

function addPolicyCommands(parent: Command, rt: CliRuntime, api: () => MemoryResource): void {
  parent
    .command('get')
    .description('the run-memory policy in force (GET /v1/runtime/run-memory-policy)')
    .action(async () => rt.emit(await api().policy(), renderPolicy));
  replaceOptions(
    parent
      .command('set')
      .description('replace the whole policy (left-out fields take their defaults); prunes at once'),
    'JSON policy (or the request body with a `policy` key)',
    'restore every default',
  ).action(async (flags: ReplaceFlags) => {
    const policy = await replaceInput(rt, flags, { label: 'policy', key: 'policy', onReset: RESET_POLICY });
    const view = await api().setPolicy(policy as Partial<RunMemoryPolicy>, flags.expectedRevision);
    rt.emit(view, (v) => [
      ...renderPolicy(v.run_memory_policy as JsonObject),
      `revision: ${(v.config as JsonObject)?.revision}`,
    ]);
  });
}

export function registerMemory(program: Command, rt: CliRuntime): void {
  const api = () => new MemoryResource(rt.client());
  const memory = program
    .command('memory')
    .description('what sessions remember: recovered runs, learnings, search');

  memory
    .command('context')
    .description("what a session's next prompt would get from memory")
    .argument('<session_id>')
    .option('--query <text>', 'rank against this text, as if it were the next input')
    .action(async (sessionId: string, f: { query?: string }) =>
      rt.emit(await api().context(sessionId, f.query), renderContext),
    );

  memory
    .command('search')
    .description('search (or, without --query, browse) what a session can see in memory')
    .argument('<session_id>')
    .option('--query <text>', 'words to look for (skills are searched only with a query)')
    .option('--limit <n>', 'at most this many results (12 by default, 50 at most)', positiveInt)
    .action(async (sessionId: string, f: { query?: string; limit?: number }) =>
      rt.emit(await api().search(sessionId, { query: f.query, limit: f.limit }), (v) =>
        renderResults(v.results, v.truncated),
      ),
    );

  addPolicyCommands(memory.command('policy').description('the recovered run-memory policy'), rt, api);
  // The spec's name for the same commands (ops-runtime §2.7), when the runtime group is registered.
  const runtime = program.commands.find((c) => c.name() === 'runtime');
  if (runtime)
    addPolicyCommands(
      runtime.command('run-memory-policy').description('the recovered run-memory policy'),
      rt,
      api,
    );
}
