// A bound persona at run time, asserted on what a provider route receives (the real OpenAI SDK
// against a local server): the prompt order (runtime prompt, persona, skills), the persona's
// default skills active from the first call, the catalog and the MCP tools narrowed by its
// baseline, the snapshot unchanged by a later PUT and by a SIGKILL, and the override prompt
// suppressing the persona section.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FixtureServer } from '../fixtures/providers/harness.ts';
import { startOpenAiServer } from '../fixtures/providers/openai-server.ts';
import { http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { EVERYTHING, stdioServer, writeMcpConfig } from '../helpers/mcp.ts';
import { writeScriptedAndOpenAiRoutes } from '../helpers/openai-route.ts';
import { writeSkill } from '../helpers/skill-tree.ts';

const skills = tempDir('kheish-persona-skills-');
writeSkill(skills, 'tone', { meta: { description: 'House tone' }, body: 'TONE-MARKER: answer briefly.' });
writeSkill(skills, 'secret', { meta: { description: 'Hidden by the persona' }, body: 'SECRET-MARKER' });
writeSkill(skills, 'forky', {
  meta: { description: 'Runs as a child' },
  body: 'FORK',
  runtime: 'context: fork\n',
});

const dir = tempDir('kheish-persona-routes-');
writeFileSync(join(dir, 'script.json'), JSON.stringify({ default: { turns: [{ text: 'ok' }] } }));
const env = () => ({ TEST_OPENAI_KEY: 'sk-test-personas', HOME: tempDir('kheish-persona-home-') });

let openai: FixtureServer;
let d: TestDaemon;

before(async () => {
  openai = await startOpenAiServer();
  writeScriptedAndOpenAiRoutes(dir, openai.origin);
  d = await startDaemon({
    args: [
      '--routes-file',
      join(dir, 'routes.toml'),
      '--skill-root',
      skills,
      '--workspace-root',
      dir,
      '--mcp-discovery',
      'disabled',
      '--mcp-config',
      writeMcpConfig(dir, stdioServer('everything', EVERYTHING, ['stdio'])),
    ],
    env: env(),
  });
  const prompt = await http(d.url, 'POST', '/v1/runtime/system-prompt', {
    settings: { custom_prompt: 'RUNTIME-PROMPT-MARKER' },
  });
  assert.equal(prompt.status, 200, prompt.text);
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
  await openai?.close();
});

/** One run on the provider route; the system messages and tool names it sent. */
async function sent(sessionId: string) {
  openai.enqueue({ kind: 'text', deltas: ['fine'] });
  const r = await http(d.url, 'POST', `/v1/sessions/${sessionId}/runs`, {
    content: 'hello',
    provider: 'gpt',
  });
  assert.equal(r.status, 202, r.text);
  const run = await waitForRun(d.url, r.body.run_id, undefined, 30_000);
  assert.equal(run.status, 'completed', JSON.stringify(run.error));
  const body = openai.requests.at(-1)!.body as any;
  // The openai driver speaks the Responses API (`input`); Chat Completions would be `messages`.
  const system = ((body.input ?? body.messages) as any[])
    .filter((m) => m.role === 'system' || m.role === 'developer')
    .map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content)));
  const tools = ((body.tools ?? []) as any[]).map((t) => t.function?.name ?? t.name);
  return { system, text: system.join('\n---\n'), tools };
}

const at = (parts: string[], marker: string) => parts.findIndex((p) => p.includes(marker));

test('persona prompt: runtime prompt, then the persona section, then skills; default skills active; catalog and MCP tools narrowed by the baseline', async () => {
  const created = await http(d.url, 'POST', '/v1/personas', {
    persona_id: 'voice',
    display_name: 'Voice',
    soul: 'PERSONA-SOUL-V1: you are the house voice.',
    default_skills: ['tone'],
    capability_scope: { skill_deny: ['secret'], mcp_tool_deny: ['mcp__everything__get-sum'] },
  });
  assert.equal(created.status, 201, created.text);
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'voiced', persona_id: 'voice' });

  const { system, text, tools } = await sent('voiced');
  const runtime = at(system, 'RUNTIME-PROMPT-MARKER');
  const persona = at(system, '# Persona: Voice');
  const skillsAt = at(system, 'TONE-MARKER');
  assert.ok(runtime >= 0 && persona > runtime && skillsAt > persona, `order: ${JSON.stringify(system)}`);
  assert.match(system[persona]!, /PERSONA-SOUL-V1: you are the house voice\./);
  assert.match(text, /# Active Skills/);
  assert.ok(!text.includes('- secret:') && !text.includes('SECRET-MARKER'), 'hidden skill not advertised');
  assert.ok(text.includes('- tone:'), 'visible skill in the catalog');
  assert.ok(tools.includes('mcp__everything__echo'), tools.join(','));
  assert.ok(!tools.includes('mcp__everything__get-sum'), 'hidden MCP tool not offered');

  const listed = (await http(d.url, 'GET', '/v1/sessions/voiced/skills')).body;
  assert.deepEqual(
    listed.map((s: any) => [s.name, s.active]),
    [
      ['forky', false],
      ['tone', true],
    ],
  );
});

test('persona prompt: a PUT changes new bindings only — soul and default skills stay frozen in the bound session, also after a SIGKILL', async () => {
  const put = await http(d.url, 'PUT', '/v1/personas/voice', {
    soul: 'PERSONA-SOUL-V2: be expansive.',
    default_skills: [],
    capability_scope: null,
  });
  assert.equal(put.status, 200, put.text);
  assert.equal(put.body.version, 2);
  const old = await sent('voiced');
  assert.match(old.text, /PERSONA-SOUL-V1/);
  assert.doesNotMatch(old.text, /PERSONA-SOUL-V2/);
  assert.match(old.text, /TONE-MARKER/);
  assert.ok(!old.tools.includes('mcp__everything__get-sum'), 'the frozen baseline still hides it');

  await http(d.url, 'POST', '/v1/sessions', { session_id: 'voiced-v2', persona_id: 'voice' });
  const fresh = await sent('voiced-v2');
  assert.match(fresh.text, /PERSONA-SOUL-V2/);
  assert.doesNotMatch(fresh.text, /TONE-MARKER/);
  assert.ok(fresh.tools.includes('mcp__everything__get-sum'));

  await d.kill();
  d = await d.restart({ env: env() });
  const restored = await sent('voiced');
  assert.match(restored.text, /PERSONA-SOUL-V1/);
  assert.match(restored.text, /TONE-MARKER/);
});

test('persona prompt: a global override_prompt suppresses the persona section; an empty soul adds none; fork-only default skills are refused', async () => {
  const set = await http(d.url, 'POST', '/v1/runtime/system-prompt', {
    settings: { override_prompt: 'OVERRIDE-MARKER' },
  });
  assert.equal(set.status, 200, set.text);
  const overridden = await sent('voiced');
  assert.match(overridden.text, /OVERRIDE-MARKER/);
  assert.doesNotMatch(overridden.text, /# Persona|PERSONA-SOUL/);
  await http(d.url, 'POST', '/v1/runtime/system-prompt', {
    settings: { custom_prompt: 'RUNTIME-PROMPT-MARKER' },
  });

  await http(d.url, 'POST', '/v1/personas', { persona_id: 'mute', display_name: 'Mute', soul: '  ' });
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'muted', persona_id: 'mute' });
  assert.doesNotMatch((await sent('muted')).text, /# Persona/);

  const fork = await http(d.url, 'POST', '/v1/personas', {
    display_name: 'Forker',
    soul: 'x',
    default_skills: ['forky'],
  });
  assert.equal(fork.status, 400, fork.text);
  assert.equal(fork.body.code, 'invalid_persona');
  assert.match(fork.body.detail, /forky/);
});
