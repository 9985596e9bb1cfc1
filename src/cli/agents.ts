// `agents` (alias `agent`): list, summaries, get, tree, spawn-sidechain, explain-sidechain,
// rename, clear-nickname (ops-runtime §2.10). Mailbox sub-commands may join the same group.
import { readFileSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import {
  type AgentStatus,
  type AgentSummariesQuery,
  agentSummaries,
  clearAgentNickname,
  explainSidechain,
  getAgent,
  listAgents,
  type ManagedAgentSnapshot,
  renameAgent,
  type SpawnSidechainRequest,
  spawnSidechain,
} from '../sdk/agents.ts';
import { itemsOf, type JsonObject } from '../sdk/types.ts';
import { UsageError } from './errors.ts';
import { keyValues, oneLine, scalar, str, table, time } from './format.ts';
import { type GenerationFlags, generationOf, generationOptions } from './generation-flags.ts';
import { resolveModelFlags } from './model-selector.ts';
import { nonEmpty, positiveInt } from './parse.ts';
import type { CliRuntime } from './runtime.ts';

const collect = (value: string, previous: string[] = []) => [...previous, value];
const kebabToSnake = (v: string) => v.replaceAll('-', '_');
const STATUSES = ['idle', 'running', 'waiting-for-approval', 'waiting-for-user-input', 'failed', 'completed'];
const MODES: Record<string, string> = {
  default: 'default',
  'accept-edits': 'acceptEdits',
  'bypass-permissions': 'bypassPermissions',
  plan: 'plan',
  'dont-ask': 'dontAsk',
};

function booleanArg(value: string): boolean {
  if (['true', '1', 'yes'].includes(value)) return true;
  if (['false', '0', 'no'].includes(value)) return false;
  throw new InvalidArgumentError('expected true or false');
}

function jsonArg(
  label: string,
  inline: string | undefined,
  file: string | undefined,
): JsonObject | undefined {
  if (inline !== undefined && file !== undefined)
    throw new UsageError(`give --${label}-json or --${label}-file, not both`);
  const text = inline ?? (file === undefined ? undefined : readFileSync(file, 'utf8'));
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as JsonObject;
  } catch (err) {
    throw new UsageError(`--${label} is not valid JSON: ${(err as Error).message}`);
  }
}

interface SpawnFlags extends GenerationFlags {
  sessionId?: string;
  threadId?: string;
  parentAssistantMessage?: string;
  systemPrompt?: string;
  appendSystemPrompt?: boolean;
  inheritedToolCallId?: string[];
  worktreePath?: string;
  permissionMode?: string;
  profile?: string;
  retention?: string;
  nickname?: string;
  spawnRequestId?: string;
  allowTool?: string[];
  denyTool?: string[];
  capabilityScopeJson?: string;
  capabilityScopeFile?: string;
  credentialScopeJson?: string;
  credentialScopeFile?: string;
  subtaskName?: string;
  subtaskDescription?: string;
  subtaskContent?: string;
  subtaskContentFile?: string;
  subtaskStdin?: boolean;
}

async function spawnBody(rt: CliRuntime, given: SpawnFlags): Promise<SpawnSidechainRequest> {
  const f = await resolveModelFlags(rt.client(), given);
  const body: SpawnSidechainRequest = {};
  if (f.sessionId) body.session_id = f.sessionId;
  if (f.threadId) body.thread_id = f.threadId;
  if (f.provider) body.provider = f.provider;
  const generation = generationOf(f);
  if (generation) body.generation = generation;
  if (f.permissionMode) body.permission_mode = MODES[f.permissionMode];
  if (f.profile) body.profile = f.profile;
  if (f.retention) body.retention = kebabToSnake(f.retention) as SpawnSidechainRequest['retention'];
  if (f.nickname) body.nickname = f.nickname;
  if (f.spawnRequestId) body.spawn_request_id = f.spawnRequestId;
  if (f.allowTool?.length || f.denyTool?.length)
    body.tool_surface = { allowlist: f.allowTool, denylist: f.denyTool };
  const capability = jsonArg('capability-scope', f.capabilityScopeJson, f.capabilityScopeFile);
  if (capability) body.capability_scope = capability;
  const credential = jsonArg('credential-scope', f.credentialScopeJson, f.credentialScopeFile);
  if (credential) body.credential_scope = credential;
  const forking = f.parentAssistantMessage !== undefined || f.systemPrompt !== undefined || f.worktreePath;
  if (forking || f.inheritedToolCallId?.length) {
    body.fork_context = {
      parent_assistant_message: f.parentAssistantMessage ?? '',
      inherited_tool_call_ids: f.inheritedToolCallId ?? [],
      system_prompt: f.systemPrompt ?? '',
    };
    if (f.appendSystemPrompt) body.fork_context.prompt_merge_mode = 'append';
    if (f.worktreePath) body.fork_context.worktree_path = f.worktreePath;
  }
  const sources = [
    f.subtaskContent !== undefined,
    f.subtaskContentFile !== undefined,
    Boolean(f.subtaskStdin),
  ];
  if (sources.filter(Boolean).length > 1)
    throw new UsageError('give one of --subtask-content, --subtask-content-file, --subtask-stdin');
  let content = f.subtaskContent;
  if (f.subtaskContentFile !== undefined) content = readFileSync(f.subtaskContentFile, 'utf8');
  if (f.subtaskStdin) content = (await rt.io.readStdin()).replace(/\r?\n$/, '');
  if (content !== undefined || f.subtaskName || f.subtaskDescription) {
    if (!f.subtaskName) throw new UsageError('a subtask needs --subtask-name');
    body.subtask = { name: f.subtaskName, description: f.subtaskDescription, content };
  }
  return body;
}

function spawnOptions(cmd: Command): Command {
  return generationOptions(cmd)
    .argument('<parent_agent_id>')
    .option('--session-id <id>', 'session id for the child (generated when omitted)', nonEmpty)
    .option('--thread-id <id>', 'thread id of the child session')
    .option('--subtask-name <name>', 'name of the subtask (also the child name)', nonEmpty)
    .option('--subtask-description <text>', 'what the subtask is about')
    .option('--subtask-content <text>', 'the child input')
    .option('--subtask-content-file <file>', 'read the child input from a file')
    .option('--subtask-stdin', 'read the child input from standard input')
    .addOption(
      new Option('--profile <name>', 'agent profile').choices([
        'default',
        'planning',
        'coordination',
        'verification',
      ]),
    )
    .addOption(
      new Option('--permission-mode <mode>', 'child mode (may only narrow)').choices(Object.keys(MODES)),
    )
    .addOption(
      new Option('--retention <policy>', 'after the child settles').choices(['retain', 'close-on-settle']),
    )
    .option('--nickname <name>', 'human-friendly name', nonEmpty)
    .option('--spawn-request-id <id>', 'idempotency key: the same id returns the same child', nonEmpty)
    .option('--allow-tool <name>', 'tool-surface allowlist entry (repeatable)', collect)
    .option('--deny-tool <name>', 'tool-surface denylist entry (repeatable; needs --allow-tool)', collect)
    .option('--capability-scope-json <json>', 'child capability scope (narrows the parent)')
    .option('--capability-scope-file <file>', 'child capability scope from a file')
    .option('--credential-scope-json <json>', 'child credential scope (without it: no connector credentials)')
    .option('--credential-scope-file <file>', 'child credential scope from a file')
    .option('--provider <route>', 'route id for the child (route policy is not inherited)')
    .option('--parent-assistant-message <text>', 'fork context: the parent message carried into the child')
    .option('--system-prompt <text>', 'fork context: system prompt')
    .option('--append-system-prompt', 'fork context: append to the base prompt instead of replacing it')
    .option('--inherited-tool-call-id <id>', 'fork context: inherited tool call id (repeatable)', collect)
    .option('--worktree-path <path>', 'fork context: worktree path');
}

function renderSnapshotList(list: ManagedAgentSnapshot[]): string[] {
  if (list.length === 0) return ['no agents'];
  return table(
    ['AGENT', 'PARENT', 'STATUS', 'ROLE', 'PATH'],
    list.map((a) => [
      a.agent_id,
      a.parent_agent_id ?? '-',
      a.status,
      scalar(a.agent.role),
      scalar(a.agent.path),
    ]),
  );
}

function renderSnapshot(a: ManagedAgentSnapshot): string[] {
  const rec = a.agent;
  return keyValues([
    ['agent', a.agent_id],
    ['parent', a.parent_agent_id ?? undefined],
    ['root', a.root_agent_id],
    ['session', a.session_id],
    ['status', a.status],
    ['role', str(rec.role)],
    ['path', str(rec.path)],
    ['nickname', str(rec.nickname)],
    ['profile', str(rec.profile)],
    ['permission mode', str(rec.permission_mode)],
    ['retention', str(rec.retention)],
    ['spawned', time(rec.spawned_at_ms)],
    ['settled', time(rec.settled_at_ms)],
    ['closed', rec.closed_at_ms ? `${time(rec.closed_at_ms)} (${scalar(rec.close_reason)})` : undefined],
    ['children', a.children.length ? a.children.join(', ') : undefined],
    ['tools', Array.isArray(rec.tool_surface) ? rec.tool_surface.join(', ') : undefined],
    [
      'last message',
      typeof a.last_assistant_message === 'string' ? oneLine(a.last_assistant_message, 120) : undefined,
    ],
    ['last error', str(a.last_error)],
  ]);
}

/** One line per agent, children indented under their parent (GET /v1/agents is in tree order). */
export function renderTree(list: ManagedAgentSnapshot[]): string[] {
  if (list.length === 0) return ['no agents'];
  return list.map((a) => {
    const rec = a.agent;
    const label = str(rec.nickname) ?? str(rec.name) ?? a.session_id;
    const extra = [str(rec.profile), str(rec.permission_mode), rec.closed_at_ms ? 'closed' : undefined]
      .filter(Boolean)
      .join(', ');
    return `${'  '.repeat(a.depth)}${a.depth ? '└─ ' : ''}${label} ${a.agent_id} [${a.status}]${extra ? ` (${extra})` : ''}`;
  });
}

export function registerAgents(program: Command, rt: CliRuntime): Command {
  const agents =
    program.commands.find((c) => c.name() === 'agents') ??
    program.command('agents').alias('agent').description('inspect the agent tree and spawn sidechains');

  agents
    .command('list')
    .description('full snapshots of every agent (tree order)')
    .action(async () => rt.emit(await listAgents(rt.client()), renderSnapshotList));

  agents
    .command('tree')
    .description('the agent tree, children indented under their parent')
    .option('--root <agent_id>', 'only this root agent and its descendants')
    .action(async (f: { root?: string }) => {
      const all = await listAgents(rt.client());
      const shown = f.root ? all.filter((a) => a.root_agent_id === f.root) : all;
      rt.emit(shown, renderTree);
    });

  agents
    .command('summaries')
    .description('lightweight agent rows (legacy array; --page or --cursor for the envelope with counts)')
    .option('--root-agent-id <id>', 'one root agent tree')
    .option('--root <id>', 'alias of --root-agent-id')
    .option('--session-id <id>', 'one agent session')
    .addOption(new Option('--status <status>', 'filter by status').choices(STATUSES))
    .option('--has-runtime <bool>', 'with (true) or without (false) live work', booleanArg)
    .option('--page', 'return the paginated envelope')
    .option('--limit <n>', 'at most n rows (max 100)', positiveInt)
    .option('--cursor <cursor>', 'continue after this page cursor')
    .action(async (f: Record<string, unknown>) => {
      const q: AgentSummariesQuery = {
        root_agent_id: (f.rootAgentId ?? f.root) as string | undefined,
        session_id: f.sessionId as string | undefined,
        status: f.status === undefined ? undefined : (kebabToSnake(f.status as string) as AgentStatus),
        has_runtime: f.hasRuntime as boolean | undefined,
        page: f.page as boolean | undefined,
        limit: f.limit as number | undefined,
        cursor: f.cursor as string | undefined,
      };
      const result = await agentSummaries(rt.client(), q);
      rt.emit(result, (r) => {
        const rows = itemsOf(r);
        if (rows.length === 0) return ['no agents'];
        return table(
          ['AGENT', 'STATUS', 'PATH', 'RUNTIME', 'LAST OUTPUT'],
          rows.map((s) => [
            s.agent_id,
            s.status,
            scalar(s.path),
            s.has_runtime ? 'yes' : 'no',
            oneLine(String(s.last_output_preview ?? '-'), 50),
          ]),
        );
      });
    });

  agents
    .command('get')
    .alias('show')
    .description('one agent snapshot')
    .argument('<agent_id>')
    .action(async (id: string) => rt.emit(await getAgent(rt.client(), id), renderSnapshot));

  spawnOptions(
    agents.command('spawn-sidechain').description('spawn a child agent under <parent_agent_id>'),
  ).action(async (parent: string, f: SpawnFlags) => {
    const res = await spawnSidechain(rt.client(), parent, await spawnBody(rt, f));
    rt.emit(res, (r) => [
      `${r.duplicate ? 'already spawned' : 'spawned'} ${r.agent_id} (session ${r.session_id}, ${r.profile}, ${r.permission_mode})`,
      ...(r.launch_run_id ? [`run ${r.launch_run_id}`] : []),
    ]);
  });

  spawnOptions(
    agents
      .command('explain-sidechain')
      .description('dry run: what a spawn would get, and whether it is allowed'),
  ).action(async (parent: string, f: SpawnFlags) => {
    const res = await explainSidechain(rt.client(), parent, await spawnBody(rt, f));
    rt.emit(res, (r) => {
      const eff = (r.effective ?? {}) as JsonObject;
      const err = r.error as JsonObject | undefined;
      return keyValues([
        ['allowed', r.allowed ? 'yes' : 'no'],
        ['denied by', err ? `${err.code}: ${err.detail}` : undefined],
        ['profile', str(eff.profile)],
        ['permission mode', str(eff.permission_mode)],
        ['path', str(eff.path)],
        ['tools', Array.isArray(eff.tool_surface) ? eff.tool_surface.join(', ') : undefined],
      ]);
    });
  });

  agents
    .command('rename')
    .description('set the nickname of a child agent')
    .argument('<agent_id>')
    .argument('<nickname>')
    .action(async (id: string, nickname: string) =>
      rt.emit(await renameAgent(rt.client(), id, nickname), (a) => [
        `${a.agent_id} is now ${a.agent.nickname}`,
      ]),
    );

  agents
    .command('clear-nickname')
    .description('remove the nickname of a child agent')
    .argument('<agent_id>')
    .action(async (id: string) =>
      rt.emit(await clearAgentNickname(rt.client(), id), (a) => [`${a.agent_id} has no nickname`]),
    );
  return agents;
}
