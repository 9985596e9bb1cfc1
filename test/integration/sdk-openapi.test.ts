// The SDK is typed against the daemon's OpenAPI document: every method of every resource client
// and run handle is called against a live daemon through a recording fetch, and each request it
// sent (method + path) must be an operation of GET /v1/openapi.json. A method added to the SDK
// without a call here fails the coverage check, so the agreement cannot silently rot.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BlockedRun,
  DaemonProblemError,
  Kheish,
  KheishError,
  type RunHandle,
  RunWaitTimeoutError,
} from '../../src/sdk/index.ts';
import { startDaemon } from '../helpers/daemon.ts';

/** Endpoints deliberately outside the document: the probes (hidden) and the document itself. */
const OUTSIDE_DOCUMENT = new Set(['GET /healthz', 'GET /readyz', 'GET /v1/openapi.json']);

type Call = (k: Kheish, ctx: Ctx) => Promise<unknown>;
interface Ctx {
  runId: string;
  agentId: string;
  handle: RunHandle;
  scheduleId: string;
}

const quick = () => AbortSignal.timeout(300);
const drain = async (frames: AsyncIterable<unknown>) => {
  for await (const _ of frames);
};

/** One call per SDK method, keyed `resource.method`; order matters only for `sessions.end` (last). */
const CALLS: Record<string, Call> = {
  'responses.create': (k) => k.responses.create({ session: 'cov', prompt: 'hi', route: 'local' }),
  'sessions.create': (k) => k.sessions.create({ session_id: 'cov' }),
  'sessions.get': (k) => k.sessions.get('cov'),
  'sessions.list': (k) => k.sessions.list({ limit: 5 }),
  'sessions.events': (k) => k.sessions.events('cov'),
  'sessions.submitRun': (k) => k.sessions.submitRun('cov', { content: 'again' }),
  // 409 session_busy while the runs above are queued is as good: the request went out.
  'sessions.input': (k) => k.sessions.input('cov', { content: 'inline' }),
  'sessions.setRoute': async (k) => {
    await k.sessions.setRoute('cov', { provider: 'local', model: 'scripted' });
    return k.sessions.setRoute('cov', null);
  },
  'sessions.setBudget': (k) => k.sessions.setBudget('cov', null),
  'sessions.setCapabilityScope': (k) => k.sessions.setCapabilityScope('cov', { skill_allow: [] }),
  'sessions.setCredentialScope': (k) => k.sessions.setCredentialScope('cov', null),
  'sessions.stream': (k) => drain(k.sessions.stream('cov', { signal: quick() })),
  'sessions.watch': (k) => drain(k.sessions.watch('cov', { signal: quick(), cursor: '0' })),
  'sessions.interrupt': (k) => k.sessions.interrupt('cov'),
  'runs.list': (k) => k.runs.list({ session_id: 'cov', page: true }),
  'runs.get': (k, c) => k.runs.get(c.runId),
  'runs.handle': (k, c) => k.runs.handle(c.runId),
  'runs.events': (k, c) => k.runs.events(c.runId),
  'runs.externalActions': (k, c) => k.runs.externalActions(c.runId),
  'runs.cancel': (k, c) => k.runs.cancel(c.runId),
  'runs.stream': (k, c) => drain(k.runs.stream(c.runId, { signal: quick(), cursor: '0' })),
  'runs.watch': (k, c) => drain(k.runs.watch(c.runId)),
  'runs.debug.get': (k, c) => k.runs.debug.get(c.runId),
  'runs.debug.artifact': (k, c) => k.runs.debug.artifact(c.runId, 'turn-0001-attempt-0001-model-request'),
  'runs.debug.prune': (k) => k.runs.debug.prune({ older_than_ms: 1, dry_run: true }),
  'approvals.list': (k) => k.approvals.list({ session_id: 'cov' }),
  'approvals.approve': (k, c) => k.approvals.approve(c.runId, ['approval-x']),
  'approvals.deny': (k, c) => k.approvals.deny(c.runId, ['approval-x'], { reason: 'no' }),
  'approvals.resolve': (k, c) =>
    k.approvals.resolve(c.runId, { resolutions: [{ request_id: 'approval-x', behavior: 'allow' }] }),
  'approvals.resolveForSession': (k) =>
    k.approvals.resolveForSession('cov', { resolutions: [{ request_id: 'approval-x', behavior: 'allow' }] }),
  'questions.list': (k) => k.questions.list({ session_id: 'cov' }),
  'questions.answer': (k, c) => k.questions.answer(c.runId, 'question-x', { q: ['a'] }),
  'questions.decline': (k, c) => k.questions.decline(c.runId, 'question-x'),
  'questions.resolve': (k, c) =>
    k.questions.resolve(c.runId, {
      resolution: { request_id: 'question-x', answers: [], declined: true },
    }),
  'questions.resolveForSession': (k) =>
    k.questions.resolveForSession('cov', {
      resolution: { request_id: 'question-x', answers: [], declined: true },
    }),
  'questions.cancel': (k, c) => k.questions.cancel(c.runId, 'question-x'),
  'tasks.list': (k) => k.tasks.list('cov'),
  'tasks.get': (k) => k.tasks.get('cov', 'task-x'),
  'tasks.output': (k) => k.tasks.output('cov', 'task-x'),
  'tasks.stop': (k) => k.tasks.stop('cov', 'task-x'),
  'schedules.create': (k) =>
    k.schedules.create({
      name: 'cov',
      target_session_id: 'cov',
      cadence: { type: 'interval', every_seconds: 3600 },
      request: { content: 'tick' },
    }),
  'schedules.list': (k) => k.schedules.list(),
  'schedules.get': (k, c) => k.schedules.get(c.scheduleId),
  'schedules.pause': (k, c) => k.schedules.pause(c.scheduleId),
  'schedules.resume': (k, c) => k.schedules.resume(c.scheduleId),
  'schedules.trigger': (k, c) => k.schedules.trigger(c.scheduleId),
  'schedules.cancel': (k, c) => k.schedules.cancel(c.scheduleId),
  'agents.list': (k) => k.agents.list(),
  'agents.get': (k, c) => k.agents.get(c.agentId),
  'agents.summaries': (k) => k.agents.summaries({ session_id: 'cov' }),
  'agents.spawnSidechain': (k) => k.agents.spawnSidechain('agent-x', { subtask: { name: 'x' } }),
  'agents.explainSidechain': (k) => k.agents.explainSidechain('agent-x', { subtask: { name: 'x' } }),
  'agents.setNickname': (k, c) => k.agents.setNickname(c.agentId, 'cov-primary'),
  'agents.clearNickname': (k, c) => k.agents.clearNickname(c.agentId),
  'mailboxes.post': (k, c) =>
    k.mailboxes.post({ from_agent_id: c.agentId, to_agent_id: 'agent-x', subject: 'hi' }),
  'mailboxes.peek': (k, c) => k.mailboxes.peek(c.agentId),
  'mailboxes.deadLetters': (k, c) => k.mailboxes.deadLetters(c.agentId),
  'mailboxes.ack': (k, c) => k.mailboxes.ack(c.agentId, 'message-x'),
  'runtime.status': (k) => k.runtime.status(),
  'runtime.capabilities': (k) => k.runtime.capabilities(),
  'runtime.health': (k) => k.runtime.health(),
  'runtime.ready': (k) => k.runtime.ready(),
  'runtime.metrics': (k) => k.runtime.metrics(),
  'runtime.doctor': (k) => k.runtime.doctor({ integrity: false }),
  'runtime.get': (k) => k.runtime.get(),
  'runtime.routes': (k) => k.runtime.routes(),
  'runtime.addRoute': (k) => k.runtime.addRoute({ route_id: 'cov-route', provider: 'nope' }),
  'runtime.deleteRoute': (k) => k.runtime.deleteRoute('cov-route'),
  'runtime.setModel': (k) => k.runtime.setModel({ provider: 'local', model: 'scripted' }),
  'runtime.setPermissionMode': (k) => k.runtime.setPermissionMode('default'),
  'runtime.checkPermission': (k) => k.runtime.checkPermission({ tool_name: 'read_file' }),
  'runtime.permissionMatrix': (k) => k.runtime.permissionMatrix('cov'),
  'runtime.toolLimits': (k) => k.runtime.toolLimits(),
  'runtime.setToolLimits': async (k) => k.runtime.setToolLimits((await k.runtime.toolLimits()).limits),
  'runtime.setDebugLevel': (k) => k.runtime.setDebugLevel('off'),
  'runtime.systemPrompt': (k) => k.runtime.systemPrompt(),
  'runtime.setSystemPrompt': (k) => k.runtime.setSystemPrompt({}),
  'runtime.revisions': (k) => k.runtime.revisions(),
  'runtime.rollback': (k) => k.runtime.rollback(),
  'runtime.openapi': (k) => k.runtime.openapi(),
  'hooks.get': (k) => k.hooks.get(),
  'hooks.set': (k) => k.hooks.set({ hooks: {} }),
  'hooks.reset': (k) => k.hooks.reset(),
  'hooks.deadLetters': (k) => k.hooks.deadLetters(),
  'hooks.resolveDeadLetter': (k) => k.hooks.resolveDeadLetter('hdl-x', 'covered'),
  'secrets.put': (k) =>
    k.secrets.put({ slot_id: 'cov', provider: 'generic', mode: 'opaque_secret', state: { value: 'x' } }),
  'secrets.list': (k) => k.secrets.list(),
  'secrets.get': (k) => k.secrets.get('cov'),
  'secrets.delete': (k) => k.secrets.delete('cov'),
  'auth.subject': (k) => k.auth.subject('session:cov'),
  'auth.revokeSubject': (k) => k.auth.revokeSubject('agent:cov-nobody'),
  'auth.lease': (k) => k.auth.lease('lease_x'),
  'auth.revokeLease': (k) => k.auth.revokeLease('lease_x'),
  'auth.revokeSlot': (k) => k.auth.revokeSlot('cov.none'),
  'auth.accounts': (k) => k.auth.accounts(),
  'auth.account': (k) => k.auth.account('mcp.oauth.none'),
  'auth.refreshAccount': (k) => k.auth.refreshAccount('mcp.oauth.none'),
  'auth.revokeAccount': (k) => k.auth.revokeAccount('mcp.oauth.none'),
  'auth.deleteAccount': (k) => k.auth.deleteAccount('mcp.oauth.none'),
  'personas.create': (k) => k.personas.create({ persona_id: 'cov-p', display_name: 'Cov', soul: 's' }),
  'personas.list': (k) => k.personas.list({ query: 'cov', page: true }),
  'personas.get': (k) => k.personas.get('cov-p'),
  'personas.update': (k) => k.personas.update('cov-p', { soul: 's2' }),
  'personas.bind': (k) => k.personas.bind('cov', 'cov-p'),
  'personas.clear': (k) => k.personas.clear('cov'),
  'personas.delete': (k) => k.personas.delete('cov-p'),
  'memory.context': (k) => k.memory.context('cov', 'ok'),
  'memory.search': (k) => k.memory.search('cov', { query: 'ok', limit: 3 }),
  'memory.policy': (k) => k.memory.policy(),
  'memory.setPolicy': (k) => k.memory.setPolicy({ max_prompt_entries: 3 }),
  'projects.create': (k) =>
    k.projects.create({
      project_id: 'cov-proj',
      display_name: 'Cov',
      members: [{ member_id: 'w', member_kind: 'session', display_name: 'W', session_id: 'cov-member' }],
    }),
  'projects.list': (k) => k.projects.list({ query: 'cov', page: true }),
  'projects.get': (k) => k.projects.get('cov-proj'),
  'projects.update': (k) => k.projects.update('cov-proj', { description: 'd' }),
  'projects.events': (k) => k.projects.events('cov-proj', { limit: 5 }),
  'projects.members': (k) => k.projects.members('cov-proj'),
  'projects.upsertMember': (k) =>
    k.projects.upsertMember('cov-proj', { member_id: 'h', member_kind: 'human_actor', display_name: 'H' }),
  'projects.removeMember': (k) => k.projects.removeMember('cov-proj', 'h'),
  'projects.links': (k) => k.projects.links('cov-proj'),
  'projects.upsertLink': (k) => k.projects.upsertLink('cov-proj', { channel_id: 'no-such-channel' }),
  'projects.removeLink': (k) => k.projects.removeLink('cov-proj', 'no-such-channel'),
  'projects.createTask': (k) =>
    k.projects.createTask('cov-proj', {
      project_task_id: 't',
      title: 'T',
      assignment: { assignee_member_id: 'w' },
    }),
  'projects.listTasks': (k) => k.projects.listTasks('cov-proj', { status: 'pending' }),
  'projects.getTask': (k) => k.projects.getTask('cov-proj', 't'),
  'projects.updateTask': (k) => k.projects.updateTask('cov-proj', 't', { description: 'd' }),
  'projects.startTask': (k) => k.projects.startTask('cov-proj', 'nope'),
  'projects.deleteTask': (k) => k.projects.deleteTask('cov-proj', 't'),
  'projects.delete': (k) => k.projects.delete('cov-proj'),
  'boards.create': (k) => k.boards.create({ board_id: 'cov-board' }),
  'boards.list': (k) => k.boards.list({ query: 'cov' }),
  'boards.get': (k) => k.boards.get('cov-board'),
  'boards.update': (k) => k.boards.update('cov-board', { display_name: 'Cov' }),
  'boards.revisions': (k) => k.boards.revisions('cov-board'),
  // 400 board_asset_missing is as good: the request went out.
  'boards.createRevision': (k) => k.boards.createRevision('cov-board', { render_asset_id: 'asset-nope' }),
  'boards.revision': (k) => k.boards.revision('cov-board', 'rev-nope'),
  'playbooks.validate': (k) =>
    k.playbooks.validate({ playbook_id: 'cov-pb', version: '1', title: 'T', objective: 'O' }),
  'playbooks.create': (k) =>
    k.playbooks.create({ playbook_id: 'cov-pb', version: '1', title: 'T', objective: 'O' }),
  'playbooks.list': (k) => k.playbooks.list({ query: 'cov' }),
  'playbooks.get': (k) => k.playbooks.get('cov-pb'),
  'playbooks.publish': (k) =>
    k.playbooks.publish('cov-pb', {
      version: '1',
      digest: 'x',
      evidence_refs: [{ kind: 'manual', id: 'm' }],
    }),
  'playbooks.revoke': (k) => k.playbooks.revoke('cov-pb', { version: '1', digest: 'x' }),
  'flows.start': (k) =>
    k.flows.start({
      flow_id: 'cov-flow',
      playbook_ref: { playbook_id: 'cov-pb', version: '1', digest: 'x' },
      session_id: 'cov',
      request: { content: 'hi' },
    }),
  'flows.list': (k) => k.flows.list({ session_id: 'cov' }),
  'flows.get': (k) => k.flows.get('cov-flow'),
  'flows.appendEvidence': (k) => k.flows.appendEvidence('cov-flow', [{ kind: 'manual', id: 'm' }]),
  'flows.verifyProductView': (k) =>
    k.flows.verifyProductView('cov-flow', { report_path: 'cov.md', required_sections: ['S'] }),
  'flows.cancel': (k) => k.flows.cancel('cov-flow'),
  'flows.stream': (k) => drain(k.flows.stream('cov-flow', { signal: quick(), cursor: '0' })),
  'assets.import': (k) => k.assets.import({ file_name: 'cov.txt', content: new TextEncoder().encode('cov') }),
  'assets.list': (k) => k.assets.list({ query: 'cov', page: true }),
  'assets.get': (k) => k.assets.get('asset-x'),
  'assets.references': (k) => k.assets.references('asset-x'),
  'assets.raw': (k) => k.assets.raw('asset-x'),
  'assets.delete': (k) => k.assets.delete('asset-x', { dry_run: true }),
  'assets.gc': (k) => k.assets.gc(),
  // 404 for an unknown subject or derivation is as good: the request went out.
  'derivations.create': (k) =>
    k.derivations.create({ profile: 'canonical_text', subject: { type: 'asset', asset_id: 'asset-x' } }),
  'derivations.list': (k) => k.derivations.list({ query: 'cov', page: true }),
  'derivations.get': (k) => k.derivations.get('derivation-x'),
  'connectors.list': (k) => k.connectors.list(),
  'connectors.put': (k) => k.connectors.put('http', 'cov', { allow_unauthenticated_ingress: true }),
  'connectors.get': (k) => k.connectors.get('http', 'cov'),
  'connectors.delete': (k) => k.connectors.delete('http', 'cov'),
  'deliveries.list': (k) => k.deliveries.list({ status: 'delivered', page: true }),
  'deliveries.deadLetter': (k) => k.deliveries.deadLetter({ session_id: 'cov' }),
  'deliveries.get': (k) => k.deliveries.get('dlv-x'),
  'deliveries.replay': (k) => k.deliveries.replay('dlv-x', { force: true }),
  'deliveries.resolve': (k) => k.deliveries.resolve('dlv-x', 'handled'),
  'deliveries.metrics': (k) => k.deliveries.metrics(),
  'deliveries.replayBulk': (k) => k.deliveries.replayBulk({ dry_run: true }),
  'deliveries.resetBackpressure': (k) => k.deliveries.resetBackpressure({ plugin: 'http', dry_run: true }),
  'deliveries.replyTargets': (k) => k.deliveries.replyTargets('cov'),
  'deliveries.setReplyTargets': (k) =>
    k.deliveries.setReplyTargets('cov', [{ type: 'http', url: 'https://example.com/hook' }]),
  'deliveries.clearReplyTargets': (k) => k.deliveries.clearReplyTargets('cov'),
  'externalConnectors.sendEvent': (k) =>
    k.externalConnectors.sendEvent('cov', { event_id: 'e', content: 'x' }, 'not-a-token'),
  'externalConnectors.sendBatch': (k) =>
    k.externalConnectors.sendBatch('cov', [{ event_id: 'e', content: 'x' }]),
  'externalConnectors.credential': (k) => k.externalConnectors.credential('cov', 'KEY', 'not-a-token'),
  'externalConnectors.status': (k) => k.externalConnectors.status(),
  'mcp.inventory': (k) => k.mcp.inventory(),
  'mcp.callTool': (k) => k.mcp.callTool('mcp__none__x', {}),
  'mcp.addServer': (k) => k.mcp.addServer({ name: 'cov', config: {} }),
  'mcp.removeServer': (k) => k.mcp.removeServer('cov'),
  'events.stream': (k) => drain(k.events.stream({ session_id: 'cov' }, { signal: quick() })),
  'events.watch': (k) => drain(k.events.watch({ run_id: 'run-x' }, { signal: quick() })),
  'raw.request': (k) => k.raw.request('GET', '/v1/capabilities'),
  'raw.get': (k) => k.raw.get('/v1/runs', { limit: 1 }),
  'raw.post': (k) => k.raw.post('/v1/sessions', { session_id: 'cov' }),
  'raw.put': (k) => k.raw.put('/v1/sessions/cov/budget', { budget: null }),
  'raw.delete': (k) => k.raw.delete('/v1/sessions/cov/budget'),
  'raw.stream': (k) => drain(k.raw.stream('/v1/events/stream', { signal: quick() })),
  'handle.get': (_k, c) => c.handle.get(),
  'handle.watch': (_k, c) => drain(c.handle.watch()),
  'handle.wait': (_k, c) => c.handle.wait(),
  'handle.waitUntilBlocked': (_k, c) => c.handle.waitUntilBlocked(),
  'handle.cancel': (_k, c) => c.handle.cancel(),
  'handle.approve': (_k, c) => c.handle.approve({ requestIds: ['approval-x'] }),
  'handle.deny': (_k, c) => c.handle.deny({ requestIds: ['approval-x'] }),
  'handle.answer': (_k, c) => c.handle.answer({ q: 'x' }, { requestId: 'question-x' }),
  'blocked.approveAll': (_k, c) => blocked(c).approveAll(),
  'blocked.denyAll': (_k, c) => blocked(c).denyAll('no'),
  'blocked.answer': (_k, c) => blocked(c).answer({ q: ['a'] }),
  'sessions.end': (k) => k.sessions.end('cov', 'done'),
};

/** A BlockedRun claiming pending requests the daemon does not have: its calls still go out. */
const blocked = (c: Ctx) =>
  new BlockedRun(c.handle, {
    ...c.handle.run,
    pending_approvals: [{ id: 'approval-x', tool_name: 'write_file' }],
    pending_questions: [{ id: 'question-x', questions: [] }],
  });

const methodsOf = (prefix: string, obj: object) =>
  Object.getOwnPropertyNames(Object.getPrototypeOf(obj))
    .filter((n) => n !== 'constructor' && typeof (obj as Record<string, unknown>)[n] === 'function')
    .map((n) => `${prefix}.${n}`);

test('sdk: every request of every resource client and run handle is an operation of /v1/openapi.json', async () => {
  const d = await startDaemon({ script: { default: { turns: [{ text: 'ok' }] } } });
  try {
    const sent = new Map<string, string>();
    const recording: typeof fetch = (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      sent.set(`${(init?.method ?? 'GET').toUpperCase()} ${url.pathname}`, url.pathname);
      return fetch(input, init);
    };
    const k = new Kheish({ baseUrl: d.url, fetch: recording });
    const first = await k.responses.create({ session: 'cov', prompt: 'first' });
    const done = await first.wait();
    const schedule = await k.schedules.create({
      name: 'ctx',
      target_session_id: 'cov',
      cadence: { type: 'interval', every_seconds: 3600 },
      request: { content: 'tick' },
    });
    const ctx: Ctx = {
      runId: done.run_id,
      agentId: done.agent_id as string,
      handle: first,
      scheduleId: schedule.schedule_id,
    };

    const surface = [
      ...[
        'responses',
        'sessions',
        'runs',
        'approvals',
        'questions',
        'tasks',
        'schedules',
        'agents',
        'mailboxes',
        'runtime',
        'hooks',
        'secrets',
        'personas',
        'memory',
        'projects',
        'boards',
        'playbooks',
        'flows',
        'assets',
        'derivations',
        'connectors',
        'deliveries',
        'externalConnectors',
        'mcp',
        'auth',
        'events',
        'raw',
      ].flatMap((r) => methodsOf(r, (k as unknown as Record<string, object>)[r]!)),
      ...methodsOf('runs.debug', k.runs.debug),
      ...methodsOf('handle', first),
      ...methodsOf('blocked', blocked(ctx)),
    ].sort();
    assert.deepEqual(Object.keys(CALLS).sort(), surface, 'one call per SDK method');

    for (const [name, call] of Object.entries(CALLS)) {
      try {
        await call(k, ctx);
      } catch (err) {
        // Unknown ids and refused states are fine: the request went out, which is what is checked.
        const expected =
          err instanceof DaemonProblemError ||
          (err instanceof KheishError && !(err instanceof RunWaitTimeoutError));
        if (!expected) throw new Error(`${name} failed: ${(err as Error).stack}`);
      }
    }

    const doc = (await (await fetch(`${d.url}/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => ({
        method: m.toUpperCase(),
        path,
        re: new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}$`),
      })),
    );
    const missing = [...sent.keys()].filter((key) => {
      if (OUTSIDE_DOCUMENT.has(key)) return false;
      const [method, path] = key.split(' ') as [string, string];
      return !operations.some((op) => op.method === method && op.re.test(path));
    });
    assert.deepEqual(missing, [], 'requests the OpenAPI document does not declare');
    // The recorder saw the whole surface, streams included.
    assert.ok(sent.has(`GET /v1/runs/${ctx.runId}/stream`) && sent.has('GET /v1/events/stream'));
    assert.ok(sent.size > 50, `${sent.size} distinct requests`);
  } finally {
    await d.stop();
    await d.cleanup();
  }
});
