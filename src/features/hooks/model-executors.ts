// Model-driven executors (ops-runtime §7.2): `prompt` is one model call through the route
// inventory; `agent` is an isolated, ephemeral agent loop of at most `max_turns` model calls that
// may call only the tools its `tool_surface` allowlist names (none when omitted). Both render their
// template with `{{invocation_json}}` and read the model's JSON answer as the outcome.
import type { ChatMessage, ModelDriver, ToolCall } from '../../models/driver.ts';
import type { RouteInventory } from '../../models/route-inventory.ts';
import type { ToolRegistry } from '../../tools/registry.ts';
import type { WireInvocation } from './executors.ts';
import { HookFailure, type HookOutcome, jsonOfModelText, parseOutcome } from './outcome.ts';
import type { HookExecutor } from './settings-schema.ts';

type Prompt = Extract<HookExecutor, { type: 'prompt' }>;
type Agent = Extract<HookExecutor, { type: 'agent' }>;

export interface ModelHookDeps {
  routes: RouteInventory;
  /** The credential broker's check for the `daemon` subject (null = allowed; else why not). */
  authorize?: (routeId: string) => Promise<string | null>;
  tools: ToolRegistry;
  workspaceRoot: string | null;
}

const ANSWER_RULE =
  'Answer with one JSON object only (the hook outcome), for example {"continue_execution": true} or {"decision": "block", "stop_reason": "..."}.';

export function render(template: string, wire: WireInvocation): string {
  return template.replaceAll('{{invocation_json}}', JSON.stringify(wire));
}

function driverOf(
  ex: Prompt | Agent,
  deps: ModelHookDeps,
): { driver: ModelDriver; model: string; routeId: string } {
  try {
    const r = deps.routes.resolve({ provider: ex.model?.provider, model: ex.model?.model }, null);
    return { driver: deps.routes.driverFor(r.route_id), model: r.model, routeId: r.route_id };
  } catch (e) {
    throw new HookFailure(`the hook's model route is not usable: ${(e as Error).message}`, false);
  }
}

/** Every provider call of a hook needs a live broker lease, like a run's (docs/credentials.md). */
async function authorized(deps: ModelHookDeps, routeId: string): Promise<void> {
  const refused = (await deps.authorize?.(routeId)) ?? null;
  if (refused) throw new HookFailure(`the hook's model route is not usable: ${refused}`, false);
}

async function call(
  driver: ModelDriver,
  model: string,
  messages: ChatMessage[],
  input: string,
  index: number,
  tools: Array<{ name: string; description: string; input_schema: Record<string, unknown> }>,
  wire: WireInvocation,
  signal: AbortSignal,
) {
  try {
    return await driver.call({
      run_id: `hook-${wire.invocation_key}`,
      model,
      messages,
      input_text: input,
      call_index: index,
      tools,
      signal,
      onTextDelta: () => undefined,
      generation: tools.length === 0 ? { tool_choice: 'none' } : {},
      purpose: 'turn',
    });
  } catch (e) {
    if (signal.aborted) throw new HookFailure('the model call was stopped at the hook timeout', true);
    throw new HookFailure(`the hook's model call failed: ${(e as Error).message}`, true);
  }
}

export async function runPrompt(
  ex: Prompt,
  wire: WireInvocation,
  deps: ModelHookDeps,
  signal: AbortSignal,
): Promise<HookOutcome> {
  const { driver, model, routeId } = driverOf(ex, deps);
  const input = render(ex.template, wire);
  await authorized(deps, routeId);
  const res = await call(driver, model, system(ex, input), input, 0, [], wire, signal);
  return parseOutcome(jsonOfModelText(res.text));
}

function system(ex: Prompt | Agent, input: string): ChatMessage[] {
  return [
    { role: 'system', content: `${ex.system_prompt ? `${ex.system_prompt}\n\n` : ''}${ANSWER_RULE}` },
    { role: 'user', content: input },
  ];
}

/** The tools an agent hook may call: exactly its allowlist, minus its denylist. */
export function agentTools(ex: Agent, tools: ToolRegistry) {
  const s = ex.tool_surface;
  const allow = new Set(Array.isArray(s) ? s : (s?.allow ?? []));
  const deny = new Set(Array.isArray(s) ? [] : (s?.deny ?? []));
  return tools.list().filter((t) => allow.has(t.name) && !deny.has(t.name));
}

export async function runAgent(
  ex: Agent,
  wire: WireInvocation,
  deps: ModelHookDeps,
  signal: AbortSignal,
): Promise<HookOutcome> {
  const { driver, model, routeId } = driverOf(ex, deps);
  const allowed = agentTools(ex, deps.tools);
  const surface = allowed.map((t) => ({
    name: t.name,
    description: t.description,
    input_schema: t.input_schema,
  }));
  const input = render(ex.template, wire);
  const messages = system(ex, input);
  const maxTurns = ex.max_turns ?? 4;
  for (let turn = 0; turn < maxTurns; turn++) {
    const last = turn === maxTurns - 1;
    await authorized(deps, routeId);
    const res = await call(driver, model, messages, input, turn, last ? [] : surface, wire, signal);
    if (res.tool_calls.length === 0) return parseOutcome(jsonOfModelText(res.text));
    messages.push({ role: 'assistant', content: res.text, tool_calls: res.tool_calls });
    for (const c of res.tool_calls) messages.push(await runTool(c, allowed, deps, wire, signal));
  }
  throw new HookFailure(`the agent hook gave no outcome within ${maxTurns} turns`, false);
}

async function runTool(
  c: ToolCall,
  allowed: ReturnType<typeof agentTools>,
  deps: ModelHookDeps,
  wire: WireInvocation,
  signal: AbortSignal,
): Promise<ChatMessage> {
  const tool = allowed.find((t) => t.name === c.name);
  const res = tool
    ? await deps.tools.execute(c, {
        run_id: wire.run_id ?? `hook-${wire.invocation_key}`,
        session_id: wire.session_id ?? '',
        agent_id: wire.agent_id ?? '',
        tool_call_id: c.id,
        workspace_root: deps.workspaceRoot,
        signal,
        // An agent hook inspects; it does not change the workspace or reach the network.
        sandbox: { network: false, workspace_writable: false },
      })
    : { content: `tool \`${c.name}\` is not in this hook's tool surface`, is_error: true };
  return { role: 'tool', tool_call_id: c.id, name: c.name, content: res.content, is_error: res.is_error };
}
