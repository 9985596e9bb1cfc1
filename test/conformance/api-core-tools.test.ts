// api-core §15 items 91–93: the default tool registry and the documented refusals, on the same
// registry the daemon builds (real files in a temp workspace, no network).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { registerBuiltinFileTools } from '../../src/tools/builtin/index.ts';
import { ToolRegistry } from '../../src/tools/registry.ts';
import { registerShellTool } from '../../src/tools/shell/index.ts';
import { registerWebTools } from '../../src/tools/web/index.ts';
import { tempDir } from '../helpers/daemon.ts';

const registry = new ToolRegistry();
registerBuiltinFileTools(registry);
registerShellTool(registry, {});
registerWebTools(registry, {});
const workspace = tempDir('kheish-tools-');
const ctx = {
  run_id: 'r',
  session_id: 's',
  agent_id: 'a',
  tool_call_id: 'c',
  workspace_root: workspace,
  signal: new AbortController().signal,
};
const call = (name: string, args: Record<string, unknown>) =>
  registry.execute({ id: 'c', name, arguments: args }, ctx);

const REQUIRED: Record<string, string[]> = {
  read_file: ['path'],
  write_file: ['path'],
  edit_file: ['path', 'old_text', 'new_text'],
  apply_patch: ['hunks'],
  list_files: [],
  glob_search: ['pattern'],
  grep_search: ['pattern'],
  bash: ['command'],
  web_search: ['query'],
  web_fetch: ['url'],
};

test('api-core #91: the coding bundle is exactly the ten tools, with the required parameters of §10', () => {
  assert.deepEqual(
    registry
      .list()
      .map((t) => t.name)
      .sort(),
    Object.keys(REQUIRED).sort(),
  );
  for (const [name, required] of Object.entries(REQUIRED)) {
    const schema = registry.get(name)!.input_schema as {
      required?: string[];
      properties?: Record<string, unknown>;
    };
    for (const r of required) {
      assert.ok(schema.properties && r in schema.properties, `${name} declares ${r}`);
      assert.ok((schema.required ?? []).includes(r), `${name} requires ${r}`);
    }
  }
  for (const name of ['write_file', 'edit_file', 'apply_patch', 'bash'])
    assert.equal(registry.get(name)!.side_effects, true, name);
  for (const name of ['read_file', 'list_files', 'glob_search', 'grep_search', 'web_fetch', 'web_search'])
    assert.equal(registry.get(name)!.side_effects, false, name);
});

test('api-core #92: bad writes fail and leave files unchanged', async () => {
  const file = join(workspace, 'a.txt');
  writeFileSync(file, 'hello world');
  const both = await call('write_file', {
    path: 'a.txt',
    content: 'x',
    content_base64: Buffer.from('y').toString('base64'),
  });
  assert.equal(both.is_error, true);
  const absent = await call('edit_file', { path: 'a.txt', old_text: 'missing', new_text: 'x' });
  assert.equal(absent.is_error, true);
  const stale = await call('write_file', {
    path: 'a.txt',
    content: 'new',
    expected_sha256: createHash('sha256').update('other').digest('hex'),
  });
  assert.equal(stale.is_error, true);
  writeFileSync(join(workspace, 'b.txt'), 'bee');
  const patch = await call('apply_patch', {
    hunks: [
      { path: 'a.txt', old_text: 'hello', new_text: 'HELLO' },
      { path: 'b.txt', old_text: 'not there', new_text: 'x' },
    ],
  });
  assert.equal(patch.is_error, true);
  assert.equal(readFileSync(file, 'utf8'), 'hello world', 'nothing changed');
  assert.equal(readFileSync(join(workspace, 'b.txt'), 'utf8'), 'bee');
});

test('api-core #93: web_fetch refuses loopback and userinfo; web_search refuses a 1-character query', async () => {
  for (const url of ['http://127.0.0.1/', 'http://user:pass@example.com/']) {
    const r = await call('web_fetch', { url });
    assert.equal(r.is_error, true, url);
  }
  const short = await call('web_search', { query: 'x' });
  assert.equal(short.is_error, true);
});
