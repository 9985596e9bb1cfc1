// Runs examples/sdk-quickstart.ts, unchanged, with the project's Node against a live daemon whose
// scripted route makes the run write a file (a tool call that needs approval in the default
// permission mode): the example submits, watches, approves, resumes, prints the answer and an error.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { startDaemon, tempDir } from '../helpers/daemon.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const EXAMPLE = join(ROOT, 'examples', 'sdk-quickstart.ts');

const script = {
  rules: [
    {
      match: 'hello\\.txt',
      turns: [
        {
          tool_calls: [
            { name: 'write_file', arguments: { path: 'hello.txt', content: 'Hello from the SDK' } },
          ],
        },
        { text: 'I created hello.txt with the greeting.' },
      ],
    },
  ],
};

test('examples/sdk-quickstart.ts: submit, watch from the first event, approve, resume after the last id, answer, problem error', async () => {
  const workspace = tempDir('kheish-sdk-ws-');
  const d = await startDaemon({ script, args: ['--workspace-root', workspace] });
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [EXAMPLE], {
      cwd: ROOT,
      env: { ...process.env, KHEISH_BASE_URL: d.url, KHEISH_TOKEN: '', SDK_SESSION_ID: 'sdk-quickstart' },
      timeout: 120_000,
    });
    const lines = stdout.trim().split('\n');
    assert.match(lines[0]!, /^submitted run-\S+ in session sdk-quickstart$/);
    // The watch replays from the run's first event, so the first states are seen too.
    const statuses = lines.filter((l) => l.startsWith('status: ')).map((l) => l.slice(8));
    assert.deepEqual(statuses, ['queued', 'running', 'waiting_for_approval', 'running', 'completed']);
    const at = (prefix: string) => lines.findIndex((l) => l.startsWith(prefix));
    assert.equal(
      lines[at('approving ')],
      'approving write_file {"path":"hello.txt","content":"Hello from the SDK"}',
    );
    assert.ok(at('status: waiting_for_approval') < at('approving ') && at('approving ') < at('output: '));
    assert.equal(lines[at('output: ')], 'output: I created hello.txt with the greeting.');
    assert.equal(lines[at('answer: ')], 'answer: I created hello.txt with the greeting.');
    assert.equal(lines.at(-1), 'error: HTTP 404 runs/run_not_found: run run-does-not-exist was not found');
    // The approval really let the tool run, once.
    assert.equal(readFileSync(join(workspace, 'hello.txt'), 'utf8'), 'Hello from the SDK');
  } finally {
    await d.stop();
    await d.cleanup();
  }
});
