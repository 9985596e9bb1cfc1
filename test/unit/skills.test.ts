// Skill parsing, roots from flags and environment, the catalog budget and capability filtering.
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { resolveServeConfig } from '../../src/config/serve-options.ts';
import type { SkillDefinition } from '../../src/features/skills/definition.ts';
import { firstParagraph, splitFrontmatter } from '../../src/features/skills/definition.ts';
import { argsText, renderActivation, renderCatalog } from '../../src/features/skills/render.ts';
import { matchTools, skillFilter } from '../../src/features/skills/visibility.ts';
import { placeholder } from '../helpers/skill-tree.ts';

test('frontmatter: only a first-line `---` opens it; CRLF and a BOM are fine; unclosed means none', () => {
  assert.deepEqual(splitFrontmatter('\uFEFF---\r\nname: x\r\n---\r\nBody\r\n'), {
    frontmatter: 'name: x',
    body: 'Body\n',
  });
  assert.equal(splitFrontmatter('Text\n---\nname: x\n---\n').frontmatter, null);
  assert.equal(splitFrontmatter('---\nname: x\nno end\n').frontmatter, null);
});

test('description default: the first prose paragraph; headings and code fences are skipped', () => {
  assert.equal(firstParagraph('# Title\n\nFirst  line\nsecond line.\n\nNext.'), 'First line second line.');
  assert.equal(firstParagraph('```\ncode\n```\n\nAfter code.'), 'After code.');
  assert.equal(firstParagraph('## Only a heading\n'), 'Only a heading');
  assert.equal(firstParagraph('\n\n'), undefined);
});

test('--skill-root (repeatable) wins over KHEISH_SKILL_ROOTS (comma list); both resolve to absolute paths', () => {
  const env = { KHEISH_SKILL_ROOTS: ' a , b/c ,,' };
  assert.deepEqual(resolveServeConfig({}, env).skillRoots, [resolve('a'), resolve('b/c')]);
  assert.deepEqual(resolveServeConfig({ skillRoot: ['x', '/y'] }, env).skillRoots, [resolve('x'), '/y']);
  assert.deepEqual(resolveServeConfig({}, {}).skillRoots, []);
});

const skill = (name: string, description: string): SkillDefinition => ({
  name,
  description,
  skill_path: `/s/${name}/SKILL.md`,
  skill_root: `/s/${name}`,
  scope: 'repo',
  digest: '0'.repeat(64),
  runtime: { allowed_tools: [], blocked_tools: [], context: 'inline' },
  instructions: `Use ${placeholder('ARGUMENTS')} from ${placeholder('KHEISH_SKILL_DIR')}.`,
});

test('the catalog stays within 8000 characters, entries within 240, and says how many it left out', () => {
  assert.equal(renderCatalog([]), null);
  const many = Array.from({ length: 200 }, (_, i) => skill(`skill-${i}`, 'd'.repeat(300)));
  const text = renderCatalog(many)!;
  assert.ok(text.length <= 8000, String(text.length));
  const entries = text.split('\n').filter((l) => l.startsWith('- skill-'));
  assert.ok(entries.every((l) => l.length <= 240));
  assert.match(text, new RegExp(`- \\.\\.\\. ${200 - entries.length} more skill\\(s\\) not shown`));
});

test('activation text: arguments substituted and fenced as data, the skill directory, tool guidance', () => {
  const text = renderActivation(skill('s', 'desc'), argsText({ path: 'src' }), 'fork', {
    allowed: ['read_file'],
    blocked: [],
  });
  assert.match(text, /^You are executing the reusable skill `s` as an isolated child agent\./);
  assert.match(text, /untrusted data[\s\S]*```text\n\{"path":"src"\}\n```/);
  assert.match(text, /Preferred tools for this skill: read_file/);
  assert.match(text, /# Skill Instructions\nUse \{"path":"src"\} from \/s\/s\.$/);
  assert.equal(argsText('  '), null);
  assert.match(
    renderActivation(skill('s', 'd'), 'x'.repeat(5000), 'inline', { allowed: [], blocked: [] }),
    /\[truncated\]/,
  );
});

test('capability scope: empty allow admits all, `*` admits all, exact names only, deny wins', () => {
  assert.equal(skillFilter(null)('a'), true);
  assert.equal(skillFilter({ skill_allow: ['a'] })('b'), false);
  assert.equal(skillFilter({ skill_allow: ['a*'] })('ab'), false, 'no prefix patterns');
  assert.equal(skillFilter({ skill_allow: ['*'], skill_deny: ['a'] })('a'), false);
  assert.equal(skillFilter({ skill_deny: ['*'] })('a'), false);
  assert.deepEqual(matchTools(['read_*', 'bash'], ['read_file', 'write_file', 'bash']), [
    'read_file',
    'bash',
  ]);
});
