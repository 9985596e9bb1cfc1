// The engine's hook port, for real (ops-runtime §7.1, §7.4): picks the hooks of an event whose
// matcher takes the subject, runs them in declaration order with retries inside each hook's
// timeout budget, applies the failure policy, dead-letters what failed for good, and folds the
// outcomes into one verdict. Policy events stop at the first block or fail-closed hook; the others
// run every hook and never block the action.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { monotonicFactory } from 'ulid';
import { DAEMON_CHAIN } from '../../engine/external-actions.ts';
import type { ExternalAudit } from '../../engine/external-audit.ts';
import {
  emptyVerdict,
  type HookEvent,
  type HookFire,
  type HookPort,
  type HookRecord,
  type HookVerdict,
} from '../../engine/hook-port.ts';
import { type HookDeadLetterRecord, insertDeadLetter } from '../../store/repos/hook-dead-letters.ts';
import type { Store } from '../../store/store.ts';
import { type SpanSpec, withSpan } from '../../telemetry/tracing.ts';
import {
  type HookCallback,
  type HttpHookOptions,
  postHttp,
  runCommand,
  safeTarget,
  type WireInvocation,
} from './executors.ts';
import { compileMatcher, type Matcher } from './matcher.ts';
import { type ModelHookDeps, runAgent, runPrompt } from './model-executors.ts';
import { blocks, CONTRACT_VERSION, checkOutcome, HookFailure, type HookOutcome } from './outcome.ts';
import { DEFAULT_TIMEOUT_MS, type HookDefinition, type HookSettingsValue } from './settings-schema.ts';

const ulid = monotonicFactory();

/** Events whose hooks can stop the action (policy events); pre_tool_use blocks one tool call. */
export const POLICY_EVENTS: ReadonlySet<HookEvent> = new Set<HookEvent>([
  'pre_tool_use',
  'permission_request',
  'setup',
  'session_start',
  'user_prompt_submit',
  'instructions_loaded',
  'stop',
  'config_change',
  'pre_compact',
  'subagent_start',
  'worktree_create',
]);

export interface HookCounters {
  invocations: number;
  hook_runs: number;
  retries: number;
  failures: number;
  blocked: number;
  dead_lettered_since_start: number;
  persistence_failures: number;
}

interface Compiled {
  def: HookDefinition;
  matcher: Matcher;
}

export interface DispatcherDeps extends ModelHookDeps {
  store: Store;
  /** The external-action ledger: hooks that leave the daemon are signed into it (fail closed). */
  audit: ExternalAudit;
  http: HttpHookOptions;
  secretValues: () => readonly string[];
  log: { warn(o: object, m?: string): void };
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

export function invocationKey(event: HookEvent, identity: string): string {
  return `hk-${sha(`${event}\n${identity}`).slice(0, 32)}`;
}

export class HookDispatcher implements HookPort {
  private readonly deps: DispatcherDeps;
  private compiled = new Map<HookEvent, Compiled[]>();
  readonly callbacks = new Map<string, HookCallback>();
  readonly counters: HookCounters = {
    invocations: 0,
    hook_runs: 0,
    retries: 0,
    failures: 0,
    blocked: 0,
    dead_lettered_since_start: 0,
    persistence_failures: 0,
  };

  constructor(deps: DispatcherDeps) {
    this.deps = deps;
  }

  /** Puts settings in force (null: no hooks). The value was validated before. */
  activate(settings: HookSettingsValue | null): void {
    const next = new Map<HookEvent, Compiled[]>();
    for (const [event, defs] of Object.entries(settings?.hooks ?? {}) as Array<
      [HookEvent, HookDefinition[]]
    >) {
      if (defs.length === 0) continue;
      next.set(
        event,
        defs.map((def) => ({ def, matcher: compileMatcher(def.matcher) as Matcher })),
      );
    }
    this.compiled = next;
  }

  has(event: HookEvent): boolean {
    return this.compiled.has(event);
  }

  configuredCount(): number {
    let n = 0;
    for (const list of this.compiled.values()) n += list.length;
    return n;
  }

  async fire(f: HookFire, signal: AbortSignal): Promise<HookVerdict> {
    const key = invocationKey(f.event, f.identity);
    const verdict = emptyVerdict(key);
    const hooks = (this.compiled.get(f.event) ?? []).filter((h) => h.matcher(f.subject));
    if (hooks.length === 0) return verdict;
    this.counters.invocations++;
    const wire: WireInvocation = {
      contract_version: CONTRACT_VERSION,
      invocation_key: key,
      event: f.event,
      ...(f.subject !== undefined ? { subject: f.subject } : {}),
      ...(f.session_id !== undefined ? { session_id: f.session_id } : {}),
      ...(f.run_id !== undefined ? { run_id: f.run_id } : {}),
      ...(f.agent_id !== undefined ? { agent_id: f.agent_id } : {}),
      payload: f.payload,
    };
    const policy = POLICY_EVENTS.has(f.event);
    for (const { def } of hooks) {
      const run = await withSpan(hookSpan(f.event, def), async (span) => {
        const r = await this.runHook(def, wire, signal);
        span.set({ 'kheish.hook.attempts': r.attempts });
        if (!r.outcome) span.fail('hook_failed', r.error);
        return r;
      });
      const record: HookRecord = { name: def.name, result: 'ok', attempts: run.attempts };
      verdict.hooks.push(record);
      if (!run.outcome) {
        const closed = def.failure_policy?.mode === 'closed';
        record.result = closed ? 'failed_closed' : 'failed_open';
        record.error = run.error;
        if (closed && policy) {
          verdict.blocked = true;
          verdict.reason = `hook \`${def.name}\` failed and its failure policy is closed: ${run.error}`;
          break;
        }
        continue;
      }
      const o = run.outcome;
      fold(verdict, o);
      const stops = blocks(o) || (f.event === 'pre_tool_use' && o.permission === 'deny');
      if (stops && policy) {
        record.result = 'blocked';
        verdict.blocked = true;
        verdict.reason = o.stop_reason ?? `blocked by hook \`${def.name}\``;
        break;
      }
    }
    if (verdict.blocked) this.counters.blocked++;
    return verdict;
  }

  /** One hook with its retries; an outer abort (run cancelled, daemon draining) is rethrown. */
  private async runHook(
    def: HookDefinition,
    wire: WireInvocation,
    signal: AbortSignal,
  ): Promise<{ outcome?: HookOutcome; error?: string; attempts: number }> {
    const budget = def.executor.timeout_ms ?? DEFAULT_TIMEOUT_MS[def.executor.type];
    const deadline = Date.now() + budget;
    const maxRetries = Math.min(def.failure_policy?.max_retries ?? 0, 3);
    let attempts = 0;
    let failure: HookFailure | null = null;
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      attempts++;
      this.counters.hook_runs++;
      const attemptSignal = AbortSignal.any([signal, AbortSignal.timeout(remaining)]);
      try {
        const outcome = await this.execute(def, wire, remaining, attemptSignal);
        return { outcome, attempts };
      } catch (e) {
        signal.throwIfAborted();
        failure =
          e instanceof HookFailure
            ? e
            : new HookFailure(`the hook failed inside the daemon: ${(e as Error).message}`, false);
      }
      if (!failure.retryable || attempts > maxRetries) break;
      const backoff = failure.retryAfterMs ?? 100 * 2 ** (attempts - 1);
      if (Date.now() + backoff >= deadline) break;
      this.counters.retries++;
      await sleep(backoff, undefined, { signal });
    }
    const error = this.redact(failure?.message ?? `no attempt fit in the ${budget} ms budget`);
    this.counters.failures++;
    await this.deadLetter(def, wire, attempts, error);
    return { error, attempts };
  }

  /**
   * An executor that leaves the daemon (command, http, and prompt/agent, which call a provider)
   * is refused while the external-action audit is closed (the failure policy then decides), and
   * each attempt leaves one signed record in the run's chain (`daemon` outside a run).
   */
  private async execute(
    def: HookDefinition,
    wire: WireInvocation,
    remaining: number,
    signal: AbortSignal,
  ): Promise<HookOutcome> {
    if (def.executor.type === 'callback') return this.executeOnce(def, wire, remaining, signal);
    const { audit, store } = this.deps;
    audit.require();
    const action = {
      run_id: wire.run_id ?? DAEMON_CHAIN,
      session_id: wire.session_id ?? null,
      agent_id: wire.agent_id ?? null,
      tool_call_id: null,
      phase: 'completed' as const,
      kind: `hook_${def.executor.type}`,
      target: `${def.name}@${safeTarget(def.executor)}`,
      request: wire,
    };
    let outcome: HookOutcome;
    try {
      outcome = await this.executeOnce(def, wire, remaining, signal);
    } catch (err) {
      const failed = { error: (err as Error).message };
      await store.write((tx) =>
        audit.append(tx.db, { ...action, response: failed, outcome: 'failed' }, tx.now),
      );
      throw err;
    }
    await store.write((tx) =>
      audit.append(tx.db, { ...action, response: outcome, outcome: 'succeeded' }, tx.now),
    );
    return outcome;
  }

  private executeOnce(
    def: HookDefinition,
    wire: WireInvocation,
    remaining: number,
    signal: AbortSignal,
  ): Promise<HookOutcome> {
    const ex = def.executor;
    switch (ex.type) {
      case 'command':
        return runCommand(ex, wire, this.deps.workspaceRoot ?? process.cwd(), remaining, signal);
      case 'http':
        return postHttp(ex, wire, this.deps.http, remaining, signal);
      case 'prompt':
        return runPrompt(ex, wire, this.deps, signal);
      case 'agent':
        return runAgent(ex, wire, this.deps, signal);
      case 'callback':
        return this.callback(ex.name, wire, signal);
    }
  }

  private async callback(name: string, wire: WireInvocation, signal: AbortSignal): Promise<HookOutcome> {
    const fn = this.callbacks.get(name);
    if (!fn) throw new HookFailure(`no callback named \`${name}\` is registered in this daemon`, false);
    const { contract_version: _v, ...invocation } = wire;
    const aborted = new Promise<never>((_, reject) =>
      signal.addEventListener(
        'abort',
        () => reject(new HookFailure('the callback was stopped at the hook timeout', true)),
        {
          once: true,
        },
      ),
    );
    const out = await Promise.race([Promise.resolve(fn(invocation, signal)), aborted]);
    return checkOutcome(out ?? {});
  }

  /** Error texts never carry a configured secret; long ones are cut. */
  private redact(message: string): string {
    let out = message;
    for (const s of this.deps.secretValues()) if (s.length >= 4) out = out.replaceAll(s, '[redacted]');
    return out.length > 500 ? `${out.slice(0, 500)}…` : out;
  }

  private async deadLetter(def: HookDefinition, wire: WireInvocation, attempts: number, error: string) {
    const record: HookDeadLetterRecord = {
      id: `hdl-${ulid().toLowerCase()}`,
      created_at_ms: Date.now(),
      event: wire.event,
      hook_name: def.name,
      executor_type: def.executor.type,
      target: safeTarget(def.executor),
      failure_mode: def.failure_policy?.mode ?? 'open',
      attempts,
      error,
      contract_version: CONTRACT_VERSION,
      invocation_key: wire.invocation_key,
      invocation_digest: sha(JSON.stringify(wire)),
      definition_digest: sha(JSON.stringify(def)),
      ...(wire.session_id ? { session_id: wire.session_id } : {}),
      ...(wire.run_id ? { run_id: wire.run_id } : {}),
      resolutions: [],
    };
    try {
      await this.deps.store.write((tx) => insertDeadLetter(tx.db, record));
      this.counters.dead_lettered_since_start++;
    } catch (err) {
      this.counters.persistence_failures++;
      this.deps.log.warn(
        { hook: def.name, event: wire.event, err: String(err) },
        'hook dead letter not persisted',
      );
    }
  }
}

/** Folds one outcome into the verdict: the strictest permission, the last input/output, every context. */
function fold(v: HookVerdict, o: HookOutcome): void {
  if (o.decision) v.decision = o.decision;
  if (o.permission) {
    const rank = { allow: 0, ask: 1, deny: 2 } as const;
    if (!v.permission || rank[o.permission] > rank[v.permission]) v.permission = o.permission;
  }
  if (o.updated_input) v.updated_input = o.updated_input;
  if (o.updated_output !== undefined) v.updated_output = o.updated_output;
  // Hooks change session rules only (ops-runtime §6.3); user and project rules are configuration.
  for (const u of o.updated_permissions ?? []) if (u.scope === 'session') v.updated_permissions.push(u);
  v.additional_contexts.push(...(o.additional_contexts ?? []));
}

/** A hook execution's span (docs/tracing.md): the HTTP and command executors carry its context out. */
function hookSpan(event: HookEvent, def: HookDefinition): SpanSpec {
  return {
    name: `hook ${event}`,
    attributes: {
      'kheish.hook.event': event,
      'kheish.hook.name': def.name,
      'kheish.hook.executor': def.executor.type,
    },
  };
}
