// Shared pieces of the Playbooks and Flows conformance files (api-collab §3): a scripted daemon
// with a workspace, and helpers that create, publish and start.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before } from 'node:test';
import { http, startDaemon, type TestDaemon, tempDir } from '../helpers/daemon.ts';
import { createSession } from './support.ts';

/**
 * `flow-full` spawns a child, waits for it, writes a file (asks approval in default mode) and
 * answers; `use-bash` calls bash; `hang` runs until cancelled; `fail` fails its model call.
 */
export const PLAYBOOK_SCRIPT = {
  rules: [
    { match: '^hang', turns: [{ hang: true }] },
    {
      match: '^fail',
      turns: [{ error: { status: 400, message: 'scripted provider rejected the request' } }],
    },
    {
      match: '^flow-full',
      turns: [
        { tool_calls: [{ name: 'spawn_agent', arguments: { name: 'helper', prompt: 'child work' } }] },
        { tool_calls: [{ name: 'wait_agent', arguments: {} }] },
        { tool_calls: [{ name: 'write_file', arguments: { path: 'flow-report.md', content: '# report' } }] },
        { text: 'flow finished' },
      ],
    },
    {
      // The scenario: two sidechains, a scoped (background shell) task, an approval, an output.
      match: '^flow-two',
      turns: [
        {
          tool_calls: [
            { name: 'spawn_agent', arguments: { name: 'left', prompt: 'child work', wait: true } },
          ],
        },
        {
          tool_calls: [
            { name: 'spawn_agent', arguments: { name: 'right', prompt: 'child work', wait: true } },
          ],
        },
        {
          tool_calls: [{ name: 'bash', arguments: { command: 'echo scoped-ok', run_in_background: true } }],
        },
        { tool_calls: [{ name: 'write_file', arguments: { path: 'two-report.md', content: '# two' } }] },
        { text: 'two sidechains done' },
      ],
    },
    {
      match: '^child-bash',
      turns: [
        { tool_calls: [{ name: 'spawn_agent', arguments: { name: 'shell', prompt: 'use-bash' } }] },
        { tool_calls: [{ name: 'wait_agent', arguments: {} }] },
        { text: 'parent done' },
      ],
    },
    {
      match: '^task-fail',
      turns: [
        {
          tool_calls: [
            { name: 'bash', arguments: { command: 'echo partial; exit 3', run_in_background: true } },
          ],
        },
        { text: 'started a shell task' },
      ],
    },
    {
      match: '^task-block',
      turns: [
        { tool_calls: [{ name: 'task_create', arguments: { title: 'needs input', status: 'blocked' } }] },
        { text: 'made a blocked task' },
      ],
    },
    {
      match: '^read-notes',
      turns: [{ tool_calls: [{ name: 'read_file', arguments: { path: 'notes.md' } }] }, { text: 'read' }],
    },
    { match: '^child work', turns: [{ delay_ms: 400, text: 'child result' }] },
    {
      match: '^use-bash',
      turns: [
        { tool_calls: [{ name: 'bash', arguments: { command: 'echo bash-ran' } }] },
        { text: 'after bash' },
      ],
    },
  ],
  default: { turns: [{ text: 'ok' }] },
};

export function manifest(id: string, extra: Record<string, unknown> = {}) {
  return {
    playbook_id: id,
    version: '1.0.0',
    title: `Playbook ${id}`,
    objective: 'Ship a checked report',
    phases: [{ phase_id: 'draft', objective: 'Write the report', acceptance_criteria: ['report exists'] }],
    acceptance_criteria: ['the report is reviewed'],
    ...extra,
  };
}

export const REVIEW = [{ kind: 'doc_review', id: 'review-local', description: 'reviewed by hand' }];

export function playbooksDaemon() {
  let d: TestDaemon;
  const workspace = tempDir('kheish-pb-ws-');
  before(async () => {
    d = await startDaemon({ script: PLAYBOOK_SCRIPT, args: ['--workspace-root', workspace] });
  });
  after(async () => {
    await d?.kill();
    await d?.cleanup();
    rmSync(workspace, { recursive: true, force: true });
  });
  const base = () => d.url;

  async function ok(method: string, path: string, body?: unknown, status = 200) {
    const res = await http(base(), method, path, body);
    assert.equal(res.status, status, `${method} ${path}: ${res.text}`);
    return res.body;
  }

  /** Creates and publishes (active) a manifest; returns its playbook ref. */
  async function published(m: ReturnType<typeof manifest>, status = 'active') {
    const view = await ok('POST', '/v1/playbooks', { manifest: m });
    const digest = view.selected_version.digest;
    await ok('POST', `/v1/playbooks/${m.playbook_id}/publish`, {
      version: m.version,
      digest,
      status,
      evidence_refs: REVIEW,
    });
    return { playbook_id: m.playbook_id, version: m.version, digest };
  }

  async function startFlow(
    ref: unknown,
    sessionId: string,
    content: string,
    extra: Record<string, unknown> = {},
  ) {
    await createSession(base(), sessionId);
    return ok('POST', '/v1/flows', {
      playbook_ref: ref,
      session_id: sessionId,
      request: { content },
      ...extra,
    });
  }

  /** Polls the Flow until `done(view)` holds. */
  async function waitFlow(flowId: string, done: (f: any) => boolean, timeoutMs = 15_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = await ok('GET', `/v1/flows/${flowId}`);
      if (done(f)) return f;
      if (Date.now() > deadline) throw new Error(`flow ${flowId} never matched: ${JSON.stringify(f)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  return { daemon: () => d, base, ok, published, startFlow, waitFlow, workspace: () => workspace };
}
