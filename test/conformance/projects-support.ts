// Shared pieces of the projects conformance files (api-collab §2): a scripted daemon and helpers
// that create projects and tasks and read everything a project keeps.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { http, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { createSession } from './support.ts';

/** `hang` keeps a run running until it is cancelled; `fail` fails its model call. */
export const PROJECT_SCRIPT = {
  rules: [
    { match: 'hang', turns: [{ hang: true }] },
    { match: 'fail', turns: [{ error: { status: 400, message: 'scripted provider rejected the request' } }] },
  ],
  default: { turns: [{ text: 'task done' }] },
};

/** One daemon for the file (started before its tests, killed after), and the helpers on it. */
export function projectsDaemon() {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon({ script: PROJECT_SCRIPT });
  });
  after(async () => {
    await d?.kill();
    await d?.cleanup();
  });
  const base = () => d.url;

  async function ok(method: string, path: string, body?: unknown, status = 200) {
    const res = await http(base(), method, path, body);
    assert.equal(res.status, status, `${method} ${path}: ${res.text}`);
    return res.body;
  }

  /** A project with one session member `m-<session>` per given session, plus a human member `lead`. */
  async function project(id: string, sessions: string[], extra: Record<string, unknown> = {}) {
    for (const s of sessions) await createSession(base(), s);
    return ok(
      'POST',
      '/v1/projects',
      {
        project_id: id,
        display_name: `Project ${id}`,
        members: [
          ...sessions.map((s) => ({
            member_id: `m-${s}`,
            member_kind: 'session',
            display_name: s,
            session_id: s,
          })),
          { member_id: 'lead', member_kind: 'human_actor', display_name: 'Lead' },
        ],
        ...extra,
      },
      201,
    );
  }

  const task = (pid: string, body: Record<string, unknown>, status = 201) =>
    ok('POST', `/v1/projects/${pid}/tasks`, body, status);
  const getTask = (pid: string, tid: string) => ok('GET', `/v1/projects/${pid}/tasks/${tid}`);

  /** Everything the daemon keeps about a project, to prove a refused request wrote nothing. */
  async function snapshot(pid: string) {
    return {
      project: await ok('GET', `/v1/projects/${pid}`),
      tasks: await ok('GET', `/v1/projects/${pid}/tasks`),
      events: await ok('GET', `/v1/projects/${pid}/events?limit=1000`),
    };
  }

  return { daemon: () => d, base, ok, project, task, getTask, snapshot };
}
