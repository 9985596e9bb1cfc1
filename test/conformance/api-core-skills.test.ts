// Skills catalog conformance (api-core #89 #90, ops-runtime #41): discovery roots in precedence
// order on disk (explicit, repository nearest first, user through HOME), duplicates with loader
// warnings, malformed skills skipped, the inspection endpoints and the runtime `skills` section.
import assert from 'node:assert/strict';
import { mkdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DaemonProblemError, Kheish } from '../../src/sdk/index.ts';
import { http, startDaemon, type TestDaemon, tempDir } from '../helpers/daemon.ts';
import { writeSkill } from '../helpers/skill-tree.ts';
import { assertProblem } from './support.ts';

const base = realpathSync(tempDir('kheish-skills-'));
const home = join(base, 'home');
const repo = join(base, 'repo');
const app = join(repo, 'app');
const explicit1 = join(base, 'explicit1');
const explicit2 = join(base, 'explicit2');
const missing = join(base, 'missing-root');
const d = (description: string, body = `Instructions of ${description}.`) => ({
  meta: { description },
  body,
});

// Explicit roots.
writeSkill(explicit1, 'research/browser', {
  body: '# Browser research\n\nBrowse the web for sources.\n\nStep two.',
});
writeSkill(explicit1, 'a/b', { body: 'Skill a b without frontmatter.' });
writeSkill(explicit1, 'forky', {
  ...d('Forked helper'),
  runtime:
    'context: fork\nagent_profile: planning\nallowed_tools: [read_file]\nblocked_tools:\n  - bash\nmodel: m-1\n',
});
writeSkill(explicit2, 'shared', d('explicit2 shared'));
// Repository roots: the workspace's own, then its parent's.
writeSkill(app, 'skills/research/browser', d('repo browser'));
writeSkill(app, 'skills/tidy', {
  meta: { name: 'tidy', description: 'nearest canonical', version: '2', when_to_use: 'when untidy' },
  body: 'Tidy up.',
});
writeSkill(app, '.claude/skills/tidy', d('nearest claude'));
writeSkill(app, '.agents/skills/tidy', d('nearest legacy'));
writeSkill(app, '.claude/skills/claude-vs-legacy', d('claude'));
writeSkill(app, '.agents/skills/claude-vs-legacy', d('legacy'));
writeSkill(app, '.agents/skills/deep', d('nearest legacy deep'));
writeSkill(repo, 'skills/deep', d('ancestor canonical deep'));
writeSkill(repo, 'skills/ancestor-only', d('ancestor only'));
writeSkill(repo, 'skills/mine-too', d('repo mine-too'));
// Malformed ones: skipped with warnings.
writeSkill(app, 'skills/broken', { raw: '---\nname: [unclosed\n---\nBody.\n' });
writeSkill(app, 'skills/nodesc', { raw: '---\nname: nodesc\n---\n\n```\ncode only\n```\n' });
writeSkill(app, 'skills/huge', { raw: `---\ndescription: big\n---\n${'x'.repeat(1024 * 1024)}\n` });
writeSkill(app, 'skills/badcfg', { ...d('bad config'), runtime: 'context: sideways\n' });
// User roots under HOME.
writeSkill(home, 'skills/mine', d('user canonical'));
writeSkill(home, '.claude/skills/mine', d('user claude'));
writeSkill(home, 'skills/mine-too', d('user mine-too'));
writeSkill(home, 'skills/shared', d('user shared'));
writeSkill(home, '.agents/skills/legacy-user', d('user legacy'));
mkdirSync(join(home, '.claude', 'skills'), { recursive: true });

let daemon: TestDaemon;
let skills: any[];
const byName = (name: string) => skills.find((s) => s.name === name);

before(async () => {
  daemon = await startDaemon({
    script: { default: { turns: [{ text: 'ok' }] } },
    args: [
      '--workspace-root',
      app,
      '--skill-root',
      explicit1,
      '--skill-root',
      explicit2,
      '--skill-root',
      missing,
    ],
    env: { HOME: home },
  });
  const res = await http(daemon.url, 'GET', '/v1/skills');
  assert.equal(res.status, 200, res.text);
  skills = res.body;
});
after(async () => {
  await daemon?.kill();
  await daemon?.cleanup();
});

test('api-core #89: GET /v1/skills items have name, description, digest, scope, runtime; GET /v1/skills/{name} adds instructions; unknown is 404', async () => {
  assert.ok(Array.isArray(skills) && skills.length > 0);
  for (const s of skills) {
    for (const k of ['name', 'description', 'digest', 'scope', 'runtime', 'skill_path', 'skill_root'])
      assert.ok(k in s, `${k} in ${JSON.stringify(s)}`);
    assert.match(s.digest, /^[0-9a-f]{64}$/);
    assert.ok(['explicit', 'repo', 'user'].includes(s.scope));
    assert.deepEqual(Object.keys(s.runtime).slice(0, 3), ['allowed_tools', 'blocked_tools', 'context']);
    assert.equal(s.instructions, undefined, 'the list carries no instructions');
  }
  const tidy = byName('tidy');
  assert.equal(tidy.version, '2');
  assert.equal(tidy.when_to_use, 'when untidy');
  assert.equal(tidy.skill_path, join(app, 'skills/tidy/SKILL.md'));
  assert.equal(tidy.skill_root, join(app, 'skills/tidy'));
  assert.deepEqual(tidy.runtime, { allowed_tools: [], blocked_tools: [], context: 'inline' });
  assert.deepEqual(byName('forky').runtime, {
    allowed_tools: ['read_file'],
    blocked_tools: ['bash'],
    context: 'fork',
    agent_profile: 'planning',
    model: 'm-1',
  });

  const one = await http(daemon.url, 'GET', '/v1/skills/tidy');
  assert.equal(one.status, 200, one.text);
  assert.equal(one.body.instructions, 'Tidy up.');
  assert.equal(one.body.digest, tidy.digest);
  const namespaced = await http(daemon.url, 'GET', `/v1/skills/${encodeURIComponent('research:browser')}`);
  assert.equal(namespaced.status, 200, namespaced.text);
  assert.match(namespaced.body.instructions, /^# Browser research/);

  assertProblem(await http(daemon.url, 'GET', '/v1/skills/no-such-skill'), 404, 'skills', 'skill_not_found');

  const filtered = await http(daemon.url, 'GET', '/v1/skills?query=UNTIDY');
  assert.deepEqual(
    filtered.body.map((s: any) => s.name),
    ['tidy'],
    'query matches name, description or when_to_use, case-insensitively',
  );
});

test('api-core #90: a SKILL.md without frontmatter name at <root>/research/browser/ is research:browser; the lower-precedence duplicate is ignored', () => {
  const browser = byName('research:browser');
  assert.ok(browser, 'listed under its directory path');
  assert.equal(browser.scope, 'explicit');
  assert.equal(browser.skill_root, join(explicit1, 'research/browser'));
  assert.equal(
    browser.description,
    'Browse the web for sources.',
    'first prose paragraph (headings are not prose)',
  );
  assert.equal(skills.filter((s) => s.name === 'research:browser').length, 1);
});

test('ops-runtime #41: explicit --skill-root beats the repository skills/ root with a loader warning; a/b/ without a name is a:b', async () => {
  const logs = daemon.logs();
  assert.match(logs, /duplicate skill name `research:browser` ignored/);
  assert.ok(
    logs.includes(join(app, 'skills/research/browser/SKILL.md')),
    'the warning names the ignored file',
  );
  assert.equal(byName('a:b')?.description, 'Skill a b without frontmatter.');
  const runtime = await http(daemon.url, 'GET', '/v1/runtime');
  const warnings = runtime.body.skills.warnings as Array<{ path: string; message: string }>;
  assert.ok(
    warnings.some(
      (w) =>
        w.path === join(app, 'skills/research/browser/SKILL.md') &&
        /duplicate skill name `research:browser`/.test(w.message),
    ),
  );
});

test('roots in precedence order: explicit (in order), repository nearest first (skills, .claude/skills, .agents/skills), user', async () => {
  const runtime = await http(daemon.url, 'GET', '/v1/runtime');
  assert.equal(runtime.status, 200);
  const roots = runtime.body.skills.roots as Array<{ path: string; scope: string }>;
  const ours = roots.filter((r) => r.path.startsWith(base));
  assert.deepEqual(ours, [
    { path: explicit1, scope: 'explicit' },
    { path: explicit2, scope: 'explicit' },
    { path: missing, scope: 'explicit' },
    { path: join(app, 'skills'), scope: 'repo' },
    { path: join(app, '.claude/skills'), scope: 'repo' },
    { path: join(app, '.agents/skills'), scope: 'repo' },
    { path: join(repo, 'skills'), scope: 'repo' },
    { path: join(home, 'skills'), scope: 'user' },
    { path: join(home, '.claude/skills'), scope: 'user' },
    { path: join(home, '.agents/skills'), scope: 'user' },
  ]);
  assert.equal(runtime.body.skills.count, skills.length);
  // Who won each contested name.
  assert.equal(byName('tidy').description, 'nearest canonical');
  assert.equal(byName('claude-vs-legacy').description, 'claude');
  assert.equal(byName('deep').description, 'nearest legacy deep', 'a nearer ancestor beats a farther one');
  assert.equal(byName('ancestor-only').scope, 'repo');
  assert.equal(byName('shared').description, 'explicit2 shared');
  assert.equal(byName('mine-too').description, 'repo mine-too');
  assert.deepEqual([byName('mine').description, byName('mine').scope], ['user canonical', 'user']);
  assert.equal(byName('legacy-user').scope, 'user');
  const warnings = runtime.body.skills.warnings as Array<{ path: string; message: string }>;
  const about = (file: string) => warnings.filter((w) => w.path === file).map((w) => w.message);
  for (const loser of [
    join(app, '.claude/skills/tidy/SKILL.md'),
    join(app, '.agents/skills/tidy/SKILL.md'),
    join(app, '.agents/skills/claude-vs-legacy/SKILL.md'),
    join(repo, 'skills/deep/SKILL.md'),
    join(home, 'skills/mine-too/SKILL.md'),
    join(home, 'skills/shared/SKILL.md'),
    join(home, '.claude/skills/mine/SKILL.md'),
  ])
    assert.match(about(loser).join(), /duplicate skill name/, loser);
});

test('malformed skills are skipped with warnings, never a failed start', async () => {
  for (const name of ['broken', 'nodesc', 'badcfg', 'huge']) assert.equal(byName(name), undefined, name);
  const runtime = await http(daemon.url, 'GET', '/v1/runtime');
  const warnings = runtime.body.skills.warnings as Array<{ path: string; message: string }>;
  const about = (file: string) => warnings.find((w) => w.path === file)?.message ?? '';
  assert.match(about(join(app, 'skills/broken/SKILL.md')), /invalid YAML/);
  assert.match(about(join(app, 'skills/nodesc/SKILL.md')), /no description/);
  assert.match(about(join(app, 'skills/badcfg/SKILL.md')), /kheish\.yaml: context/);
  assert.match(about(join(app, 'skills/huge/SKILL.md')), /the limit is 1048576/);
  assert.match(about(missing), /does not exist/);
  assert.match(daemon.logs(), /skill loader: .*invalid YAML/);
});

test('GET /v1/sessions/{id}/skills: the capability scope hides skills; an unknown session is 404', async () => {
  await http(daemon.url, 'POST', '/v1/sessions', { session_id: 'open' });
  const all = await http(daemon.url, 'GET', '/v1/sessions/open/skills');
  assert.equal(all.status, 200, all.text);
  assert.deepEqual(
    all.body.map((s: any) => s.name),
    skills.map((s) => s.name),
  );
  assert.ok(all.body.every((s: any) => s.active === false));

  await http(daemon.url, 'POST', '/v1/sessions', {
    session_id: 'deny',
    capability_scope: { skill_deny: ['tidy'] },
  });
  const denied = await http(daemon.url, 'GET', '/v1/sessions/deny/skills');
  assert.ok(!denied.body.some((s: any) => s.name === 'tidy'));
  assert.equal(denied.body.length, skills.length - 1);

  await http(daemon.url, 'POST', '/v1/sessions', {
    session_id: 'allow',
    capability_scope: { skill_allow: ['shared', 'tidy'], skill_deny: ['tidy'] },
  });
  const allowed = await http(daemon.url, 'GET', '/v1/sessions/allow/skills?query=shared');
  assert.deepEqual(
    allowed.body.map((s: any) => s.name),
    ['shared'],
  );
  assertProblem(
    await http(daemon.url, 'GET', '/v1/sessions/nobody/skills'),
    404,
    'sessions',
    'session_not_found',
  );
});

test('SDK: client.skills lists, gets and filters per session like the HTTP API', async () => {
  const client = new Kheish({ baseUrl: daemon.url });
  assert.deepEqual(await client.skills.list(), skills);
  assert.deepEqual(
    (await client.skills.list('untidy')).map((s) => s.name),
    ['tidy'],
  );
  assert.equal((await client.skills.get('research:browser')).scope, 'explicit');
  await assert.rejects(client.skills.get('no-such-skill'), (err: unknown) => {
    assert.ok(err instanceof DaemonProblemError);
    assert.equal(err.code, 'skill_not_found');
    assert.equal(err.domain, 'skills');
    return true;
  });
  await http(daemon.url, 'POST', '/v1/sessions', {
    session_id: 'sdk',
    capability_scope: { skill_allow: ['a:b'] },
  });
  assert.deepEqual(
    (await client.skills.forSession('sdk')).map((s) => [s.name, s.active]),
    [['a:b', false]],
  );
});
