// Capability scope enforced at dispatch (ops-runtime §5.4, concepts §4.4/§4.8): for each scope
// field, a session it admits and one it refuses, the scope set on the session itself and as a
// persona baseline, each checked by a scripted run that calls the skill or the MCP tool of a real
// MCP server (server-everything over stdio); then three levels of agents, each narrower.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { EVERYTHING, stdioServer, writeMcpConfig } from '../helpers/mcp.ts';
import { writeSkill } from '../helpers/skill-tree.ts';

const skills = tempDir('kheish-scope-skills-');
for (const name of ['tone', 'draft', 'plan'])
  writeSkill(skills, name, {
    meta: { description: `The ${name} skill` },
    body: `${name.toUpperCase()}-MARKER`,
  });

const call = (name: string, args: Record<string, unknown>) => ({ tool_calls: [{ name, arguments: args }] });
const script = {
  rules: [
    ...['tone', 'draft', 'plan'].map((s) => ({
      match: `^skill ${s}$`,
      turns: [call('use_skill', { name: s }), { text: 'done' }],
    })),
    { match: '^mcp echo$', turns: [call('mcp__everything__echo', { message: 'through' }), { text: 'done' }] },
    { match: '^mcp sum$', turns: [call('mcp__everything__get-sum', { a: 40, b: 2 }), { text: 'done' }] },
  ],
  default: { turns: [{ text: 'ok' }] },
};

let d: TestDaemon;
let n = 0;
before(async () => {
  const dir = tempDir('kheish-scope-mcp-');
  d = await startDaemon({
    script,
    args: [
      '--skill-root',
      skills,
      '--mcp-discovery',
      'disabled',
      '--mcp-config',
      writeMcpConfig(dir, stdioServer('everything', EVERYTHING, ['stdio'])),
    ],
    env: { HOME: tempDir('kheish-scope-home-') },
  });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
});

/** The one tool call of a finished run: whether it ran and what came back. */
async function dispatched(sessionId: string, content: string) {
  const submitted = await http(d.url, 'POST', `/v1/sessions/${sessionId}/runs`, { content });
  assert.equal(submitted.status, 202, submitted.text);
  const run = await waitForRun(d.url, submitted.body.run_id, undefined, 30_000);
  assert.equal(run.status, 'completed', `${sessionId} ${content}: ${JSON.stringify(run.error)}`);
  const events = (await http(d.url, 'GET', `/v1/runs/${run.run_id}/events`)).body;
  const finished = events.map((e: any) => e.event.trace).filter((t: any) => t?.kind === 'tool_call_finished');
  assert.equal(finished.length, 1, JSON.stringify(finished));
  return finished[0] as { name: string; outcome: string; ran: boolean; output_preview: string };
}

/** A session allowed to call everything by its permission rules, so only the scope decides. */
async function session(body: Record<string, unknown>): Promise<string> {
  const session_id = `scope-${++n}`;
  const made = await http(d.url, 'POST', '/v1/sessions', { session_id, ...body });
  assert.equal(made.status, 201, made.text);
  for (const pattern of ['mcp__*', 'use_skill'])
    await http(d.url, 'POST', `/v1/sessions/${session_id}/permission-rules`, { pattern, decision: 'allow' });
  return session_id;
}

async function expectSkill(sessionId: string, skill: string, visible: boolean, where: string) {
  const listed = (await http(d.url, 'GET', `/v1/sessions/${sessionId}/skills`)).body.map((s: any) => s.name);
  assert.equal(listed.includes(skill), visible, `${where}: GET /v1/sessions/{id}/skills ${listed}`);
  const t = await dispatched(sessionId, `skill ${skill}`);
  if (visible) {
    assert.equal(t.outcome, 'ok', `${where}: ${t.output_preview}`);
    assert.match(t.output_preview, /"action":\s*"activate"/);
  } else {
    assert.equal(t.outcome, 'error', `${where}: ${t.output_preview}`);
    assert.match(t.output_preview, new RegExp(`unknown skill \`${skill}\``));
  }
}

async function expectMcp(
  sessionId: string,
  content: 'mcp echo' | 'mcp sum',
  visible: boolean,
  where: string,
) {
  const t = await dispatched(sessionId, content);
  if (visible) {
    assert.equal(t.ran, true, `${where}: ${t.output_preview}`);
    assert.match(t.output_preview, content === 'mcp echo' ? /Echo: through/ : /42/);
  } else {
    // Named by the model, refused by the same tool surface the model's tool list is built from.
    assert.equal(t.ran, false, `${where}: ${t.output_preview}`);
    assert.equal(t.outcome, 'denied');
    assert.match(t.output_preview, /not in this agent's tool surface/);
  }
}

type Probe = (sessionId: string, visible: boolean, where: string) => Promise<void>;
const skillProbe: Probe = (s, v, w) => expectSkill(s, 'tone', v, w);
const echoProbe: Probe = (s, v, w) => expectMcp(s, 'mcp echo', v, w);

const MATRIX: Array<{ field: string; allowed: string[]; denied: string[]; probe: Probe }> = [
  { field: 'skill_allow', allowed: ['tone'], denied: ['draft'], probe: skillProbe },
  { field: 'skill_deny', allowed: ['draft'], denied: ['tone'], probe: skillProbe },
  { field: 'mcp_server_allow', allowed: ['everything'], denied: ['elsewhere'], probe: echoProbe },
  { field: 'mcp_server_deny', allowed: ['elsewhere'], denied: ['everything'], probe: echoProbe },
  {
    field: 'mcp_tool_allow',
    allowed: ['mcp__everything__echo'],
    denied: ['mcp__everything__get-sum'],
    probe: echoProbe,
  },
  {
    field: 'mcp_tool_deny',
    allowed: ['mcp__everything__get-sum'],
    denied: ['mcp__everything__echo'],
    probe: echoProbe,
  },
];

for (const { field, allowed, denied, probe } of MATRIX)
  test(`capability scope matrix: ${field} admits and refuses at dispatch, on the session and as a persona baseline`, async () => {
    for (const [visible, list] of [
      [true, allowed],
      [false, denied],
    ] as const) {
      const own = await session({ capability_scope: { [field]: list } });
      await probe(own, visible, `session ${field}=${list}`);
      const view = (await http(d.url, 'GET', `/v1/sessions/${own}`)).body;
      assert.deepEqual(view.effective_capability_scope, { [field]: list });

      const persona = `persona-${field.replaceAll('_', '-')}-${visible ? 'in' : 'out'}`;
      const p = await http(d.url, 'POST', '/v1/personas', {
        persona_id: persona,
        display_name: persona,
        soul: 'scoped',
        capability_scope: { [field]: list },
      });
      assert.equal(p.status, 201, p.text);
      const bound = await session({ persona_id: persona });
      await probe(bound, visible, `persona ${field}=${list}`);
      const boundView = (await http(d.url, 'GET', `/v1/sessions/${bound}`)).body;
      assert.equal(boundView.capability_scope, undefined, 'the session has no scope of its own');
      assert.deepEqual(boundView.effective_capability_scope, { [field]: list });
    }
  });

test('capability scope: persona baseline ∩ session scope — the session narrows, never widens, and a disjoint allow list admits nothing', async () => {
  await http(d.url, 'POST', '/v1/personas', {
    persona_id: 'narrow-base',
    display_name: 'Narrow base',
    soul: 's',
    capability_scope: { skill_allow: ['tone', 'draft'], mcp_tool_deny: ['mcp__everything__get-sum'] },
  });
  // The session asks for `*` and an un-deny: neither widens the baseline.
  const wide = await session({ persona_id: 'narrow-base', capability_scope: { skill_allow: ['*'] } });
  assert.deepEqual((await http(d.url, 'GET', `/v1/sessions/${wide}`)).body.effective_capability_scope, {
    mcp_tool_deny: ['mcp__everything__get-sum'],
    skill_allow: ['draft', 'tone'],
  });
  await expectSkill(wide, 'plan', false, 'plan outside the baseline');
  await expectMcp(wide, 'mcp sum', false, 'baseline deny survives');
  const narrower = await session({ persona_id: 'narrow-base', capability_scope: { skill_allow: ['draft'] } });
  await expectSkill(narrower, 'tone', false, 'narrowed by the session');
  await expectSkill(narrower, 'draft', true, 'in both');
  // Disjoint: persona allows tone/draft, session allows plan only → nothing, written as deny *.
  const disjoint = await session({ persona_id: 'narrow-base', capability_scope: { skill_allow: ['plan'] } });
  const eff = (await http(d.url, 'GET', `/v1/sessions/${disjoint}`)).body.effective_capability_scope;
  assert.deepEqual(eff.skill_deny, ['*']);
  for (const s of ['tone', 'draft', 'plan']) await expectSkill(disjoint, s, false, `disjoint: ${s}`);
});

test('capability scope: three levels of agents, each narrower; a widening request is 400; each level enforced at dispatch', async () => {
  await http(d.url, 'POST', '/v1/personas', {
    persona_id: 'tree-root',
    display_name: 'Tree root',
    soul: 's',
    capability_scope: { skill_allow: ['tone', 'draft', 'plan'] },
  });
  const root = await session({ persona_id: 'tree-root' });
  const rootAgent = (await http(d.url, 'GET', `/v1/sessions/${root}`)).body.agent_id;
  const spawn = async (agentId: string, capability_scope: Record<string, string[]>) =>
    http(d.url, 'POST', `/v1/agents/${agentId}/sidechains`, { capability_scope });

  const level1 = await spawn(rootAgent, { skill_allow: ['tone', 'draft'] });
  assert.equal(level1.status, 201, level1.text);
  const level2 = await spawn(level1.body.agent_id, {
    skill_allow: ['tone'],
    mcp_tool_deny: ['mcp__everything__get-sum'],
  });
  assert.equal(level2.status, 201, level2.text);
  // Outside the parent's effective scope (the persona baseline admits plan, level 1 does not).
  const widening = await spawn(level1.body.agent_id, { skill_allow: ['plan'] });
  assert.equal(widening.status, 400, widening.text);

  const eff = async (sid: string) => (await http(d.url, 'GET', `/v1/sessions/${sid}`)).body;
  const s1 = await eff(level1.body.session_id);
  const s2 = await eff(level2.body.session_id);
  assert.equal(s1.persona.persona_id, 'tree-root', 'the persona snapshot is inherited');
  assert.equal(s2.persona.persona_id, 'tree-root');
  assert.deepEqual(s1.effective_capability_scope, { skill_allow: ['draft', 'tone'] });
  assert.deepEqual(s2.effective_capability_scope, {
    mcp_tool_deny: ['mcp__everything__get-sum'],
    skill_allow: ['tone'],
  });

  await expectSkill(root, 'plan', true, 'level 0: plan');
  await expectSkill(level1.body.session_id, 'plan', false, 'level 1: plan');
  await expectSkill(level1.body.session_id, 'draft', true, 'level 1: draft');
  await expectSkill(level2.body.session_id, 'draft', false, 'level 2: draft');
  await expectSkill(level2.body.session_id, 'tone', true, 'level 2: tone');
  await expectMcp(level1.body.session_id, 'mcp sum', true, 'level 1: sum');
  await expectMcp(level2.body.session_id, 'mcp sum', false, 'level 2: sum');
  await expectMcp(level2.body.session_id, 'mcp echo', true, 'level 2: echo');

  // A parent that narrows later narrows its descendants too (the chain is read at every use);
  // a parent that widens later never widens them (their own scope was copied at spawn).
  // Level 2's finished runs post child outcomes to level 1, delivered as runs of its session: a
  // scope change waits for it to be idle (409 meanwhile).
  const idleSet = async (method: 'POST' | 'DELETE', body?: unknown) => {
    const url = `/v1/sessions/${level1.body.session_id}/capability-scope`;
    for (let i = 0; ; i++) {
      const res = await http(d.url, method, url, body);
      if (res.status !== 409 || i > 100) return res;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const narrowed = await idleSet('POST', { capability_scope: { skill_allow: ['draft'] } });
  assert.equal(narrowed.status, 200, narrowed.text);
  assert.deepEqual((await eff(level2.body.session_id)).effective_capability_scope.skill_deny, ['*']);
  await expectSkill(level2.body.session_id, 'tone', false, 'level 2 after level 1 narrowed');
  assert.equal((await idleSet('DELETE')).status, 200);
  await expectSkill(level2.body.session_id, 'tone', true, 'level 2 after level 1 cleared its own scope');
  await expectSkill(level2.body.session_id, 'plan', false, 'level 2 never gains what it did not have');
});
