// Skills at run time: an inline activation whose instructions reach the model (asserted on what a
// provider route receives, through the real OpenAI SDK against a local server) at every later call
// of the session and after a restart; a fork activation run by a scripted child agent end to end;
// list_skills/use_skill and the prompt catalog under a capability scope.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FixtureServer } from '../fixtures/providers/harness.ts';
import { startOpenAiServer } from '../fixtures/providers/openai-server.ts';
import { collectSse, http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { writeScriptedAndOpenAiRoutes } from '../helpers/openai-route.ts';
import { placeholder, writeSkill } from '../helpers/skill-tree.ts';
import { journalPayloads } from '../helpers/state-query.ts';

const root = tempDir('kheish-skills-root-');
writeSkill(root, 'style', {
  meta: { description: 'House style for answers', when_to_use: 'when answering the user' },
  body: `Answer in the STYLE-MARKER-7 voice. Audience: ${placeholder('ARGUMENTS')}. Files: ${placeholder('KHEISH_SKILL_DIR')}/ref.md`,
  runtime: 'allowed_tools: [read_file, no_such_tool]\nblocked_tools: [bash]\n',
});
writeSkill(root, 'summarize', {
  meta: { description: 'Summarize a document in a child agent' },
  body: `CHILD-TASK-MARKER: summarize ${placeholder('ARGUMENTS')} in one line.`,
  runtime: 'context: fork\nagent_profile: planning\nallowed_tools: [read_file, bash]\n',
});
writeSkill(root, 'secret', { meta: { description: 'A hidden skill' }, body: 'SECRET-MARKER instructions.' });
writeSkill(root, 'forked-only', {
  meta: { description: 'Declares a model' },
  body: 'Needs its own model.',
  runtime: 'model: other-model\n',
});

const routesDir = tempDir('kheish-skills-routes-');
writeFileSync(
  join(routesDir, 'script.json'),
  JSON.stringify({
    rules: [
      { match: 'CHILD-TASK-MARKER', turns: [{ text: 'child summary: 42' }] },
      {
        match: 'please fork',
        turns: [
          { tool_calls: [{ name: 'use_skill', arguments: { name: 'summarize', args: 'the Q3 report' } }] },
          { text: 'parent done' },
        ],
      },
      {
        match: 'use the secret',
        turns: [
          { tool_calls: [{ name: 'use_skill', arguments: { name: 'secret' } }] },
          { tool_calls: [{ name: 'list_skills', arguments: {} }] },
          { text: 'tried' },
        ],
      },
      {
        match: 'inline a fork-only skill',
        turns: [{ tool_calls: [{ name: 'use_skill', arguments: { name: 'forked-only' } }] }, { text: 'x' }],
      },
    ],
    default: { turns: [{ text: 'ok' }] },
  }),
);

let openai: FixtureServer;
let d: TestDaemon;

before(async () => {
  openai = await startOpenAiServer();
  writeScriptedAndOpenAiRoutes(routesDir, openai.origin);
  d = await startDaemon({
    args: [
      '--routes-file',
      join(routesDir, 'routes.toml'),
      '--skill-root',
      root,
      '--workspace-root',
      routesDir,
    ],
    env: { TEST_OPENAI_KEY: 'sk-test-skills', HOME: tempDir('kheish-skills-home-') },
  });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
  await openai?.close();
});

const toolResults = async (daemon: TestDaemon, runId: string) =>
  (await journalPayloads(daemon, runId, 'tool_result')).map((r) => ({
    ...r,
    json: r.is_error ? null : JSON.parse(r.content),
  }));

async function submit(sessionId: string, body: Record<string, unknown>) {
  const r = await http(d.url, 'POST', `/v1/sessions/${sessionId}/runs`, body);
  assert.equal(r.status, 202, r.text);
  const run = await waitForRun(d.url, r.body.run_id, undefined, 30_000);
  assert.equal(run.status, 'completed', JSON.stringify(run.error));
  return run;
}

test('inline use_skill: the instructions reach the model from the next call on, in every later run, and after a restart', async () => {
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'inline' });
  openai.enqueue(
    {
      kind: 'tool_call',
      id: 'call_style',
      name: 'use_skill',
      args: { name: 'style', args: 'new hires', reason: 'tone' },
    },
    { kind: 'text', deltas: ['styled'] },
  );
  const before = openai.requests.length;
  const run = await submit('inline', { content: 'hello', provider: 'gpt' });
  const [first, second] = openai.requests.slice(before).map((r) => JSON.stringify(r.body));
  assert.match(first!, /# Available Skills/);
  assert.match(first!, /- style: House style for answers \| when: when answering the user/);
  assert.doesNotMatch(first!, /STYLE-MARKER-7/, 'not active before use_skill');
  assert.match(second!, /STYLE-MARKER-7 voice\. Audience: new hires\./);
  assert.ok(
    second!.includes(`Files: ${join(root, 'style')}/ref.md`),
    'KHEISH_SKILL_DIR is the skill directory',
  );
  assert.match(second!, /Preferred tools for this skill: read_file\\n/, 'only tools this agent has');
  assert.match(second!, /Avoid these tools .*: bash/);

  const [result] = await toolResults(d, run.run_id);
  assert.equal(result.json.action, 'activate');
  assert.equal(result.json.mode, 'inline');
  assert.equal(result.json.name, 'style');
  assert.equal(result.json.active_skill.args, 'new hires');
  assert.equal(result.json.active_skill.activation_reason, 'tone');
  assert.match(result.json.active_skill.digest, /^[0-9a-f]{64}$/);

  // The activation is a step of the run, on its stream (replayed from the durable log).
  const stream = await collectSse(`${d.url}/v1/runs/${run.run_id}/stream?cursor=0`, {
    until: (frames) => frames.some((f) => f.event === 'run_updated' && f.data.run?.status === 'completed'),
  });
  const activated = stream.frames.find((f) => f.event === 'trace' && f.data.trace.kind === 'skill_activated');
  assert.ok(activated, stream.raw.slice(0, 2000));
  assert.equal(activated.data.trace.name, 'style');
  assert.equal(activated.data.trace.mode, 'inline');
  assert.equal(activated.data.trace.tool_call_id, 'call_style');

  const skills = await http(d.url, 'GET', '/v1/sessions/inline/skills');
  assert.deepEqual(
    skills.body.filter((s: any) => s.active).map((s: any) => s.name),
    ['style'],
  );

  openai.enqueue({ kind: 'text', deltas: ['again'] });
  await submit('inline', { content: 'second question', provider: 'gpt' });
  assert.match(JSON.stringify(openai.requests.at(-1)!.body), /STYLE-MARKER-7/);
  // Other sessions are untouched.
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'plain' });
  openai.enqueue({ kind: 'text', deltas: ['plain'] });
  await submit('plain', { content: 'hi', provider: 'gpt' });
  assert.doesNotMatch(JSON.stringify(openai.requests.at(-1)!.body), /STYLE-MARKER-7/);

  await d.kill();
  d = await d.restart({ env: { TEST_OPENAI_KEY: 'sk-test-skills', HOME: tempDir('kheish-skills-home-') } });
  openai.enqueue({ kind: 'text', deltas: ['restored'] });
  await submit('inline', { content: 'after restart', provider: 'gpt' });
  assert.match(
    JSON.stringify(openai.requests.at(-1)!.body),
    /STYLE-MARKER-7 voice/,
    'restored after restart',
  );
});

test('fork use_skill: a child agent runs the skill (profile, tools) and the waited result carries its final output', async () => {
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'forker' });
  const run = await submit('forker', { content: 'please fork this' });
  assert.deepEqual(
    run.outputs.map((o: any) => o.content),
    ['parent done'],
  );
  const [result] = await toolResults(d, run.run_id);
  assert.ok(result.json, result.content);
  assert.equal(result.json.action, 'fork');
  assert.equal(result.json.mode, 'fork');
  assert.equal(result.json.name, 'summarize');
  assert.match(result.json.digest, /^[0-9a-f]{64}$/);
  const spawn = result.json.spawn;
  assert.equal(spawn.final_output, 'child summary: 42');
  assert.equal(spawn.snapshot.agent_id, spawn.agent_id);
  assert.equal(spawn.snapshot.session_id, spawn.session_id);
  assert.equal(spawn.timed_out, false);
  assert.equal(spawn.profile, 'planning');

  const child = await http(d.url, 'GET', `/v1/runs/${spawn.launch_run_id}`);
  assert.equal(child.body.status, 'completed');
  assert.equal(child.body.session_id, spawn.session_id);
  // Its input is the rendered skill (the scripted rule matching CHILD-TASK-MARKER gave the output).
  assert.match(child.body.request.text_preview, /^You are executing the reusable skill `summarize`/);
  const agent = await http(d.url, 'GET', `/v1/agents/${spawn.agent_id}`);
  assert.equal(agent.status, 200, agent.text);
  // The skill named read_file and bash; the planning profile has no bash, so the child got read_file only.
  assert.deepEqual(agent.body.agent.tool_surface, ['read_file'], JSON.stringify(agent.body));

  const events = await http(d.url, 'GET', `/v1/runs/${run.run_id}/events`);
  const traces = JSON.stringify(events.body);
  assert.match(traces, /"kind":"skill_activated"[^}]*"mode":"fork"/);
  // The wait consumed the child's outcome: no extra parent run was started for it.
  await new Promise((r) => setTimeout(r, 300));
  const runs = await http(d.url, 'GET', '/v1/runs?session_id=forker');
  assert.equal(runs.body.length, 1, JSON.stringify(runs.body));
});

test('an inline activation of a skill that declares child overrides is refused', async () => {
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'refused' });
  const run = await submit('refused', { content: 'inline a fork-only skill' });
  const [result] = await toolResults(d, run.run_id);
  assert.equal(result.is_error, true);
  assert.match(result.content, /declares model, which need context fork/);
});

test('capability scope hides a skill from the catalog, list_skills and use_skill (an unknown skill)', async () => {
  await http(d.url, 'POST', '/v1/sessions', {
    session_id: 'scoped',
    capability_scope: { skill_deny: ['secret'] },
  });
  const run = await submit('scoped', { content: 'use the secret' });
  const [used, listed] = await toolResults(d, run.run_id);
  assert.equal(used.is_error, true);
  assert.match(used.content, /unknown skill `secret`/);
  assert.equal(
    listed.json.skills.some((s: any) => s.name === 'secret'),
    false,
  );
  assert.equal(listed.json.count, listed.json.skills.length);
  assert.ok(listed.json.skills.some((s: any) => s.name === 'style'));

  // The catalog the model reads has it neither.
  await http(d.url, 'POST', '/v1/sessions', {
    session_id: 'scoped-gpt',
    capability_scope: { skill_allow: ['style'] },
  });
  openai.enqueue({ kind: 'text', deltas: ['ok'] });
  await submit('scoped-gpt', { content: 'hi', provider: 'gpt' });
  const prompt = JSON.stringify(openai.requests.at(-1)!.body);
  assert.match(prompt, /- style: /);
  assert.doesNotMatch(prompt, /- secret: |- summarize: /);
});
