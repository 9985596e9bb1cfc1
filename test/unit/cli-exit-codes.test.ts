import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CommanderError } from 'commander';
import { EXIT, errorLines, exitCodeFor, exitCodeForStatus, UsageError } from '../../src/cli/errors.ts';
import { commandName } from '../../src/cli/program.ts';
import {
  DaemonProblemError,
  DaemonSchemaError,
  DaemonTimeoutError,
  DaemonUnreachableError,
  SseFrameTooLargeError,
} from '../../src/sdk/errors.ts';

const problem = (status: number, code?: string, domain?: string) =>
  new DaemonProblemError(status, { status, code, domain, detail: `detail ${status}` });

describe('exit codes (ops-runtime §2.2)', () => {
  test('HTTP statuses map to the documented codes', () => {
    const cases: Array<[number, number]> = [
      [400, 2],
      [413, 2],
      [401, 4],
      [403, 4],
      [404, 5],
      [409, 6],
      [429, 7],
      [503, 7],
      [500, 1],
    ];
    for (const [status, code] of cases) {
      assert.equal(exitCodeForStatus(status), code, `HTTP ${status}`);
      assert.equal(exitCodeFor(problem(status)), code, `problem ${status}`);
    }
  });

  test('transport and client-side failures map to their codes', () => {
    assert.equal(exitCodeFor(new DaemonUnreachableError('http://127.0.0.1:4000')), EXIT.unreachable);
    assert.equal(exitCodeFor(new DaemonUnreachableError('http://127.0.0.1:4000')), 3);
    assert.equal(exitCodeFor(new DaemonTimeoutError('http://x', 10)), 7);
    assert.equal(exitCodeFor(new DaemonSchemaError('GET /v1/status', 'ready: missing')), 8);
    assert.equal(exitCodeFor(new UsageError('bad')), 2);
    assert.equal(exitCodeFor(new SseFrameTooLargeError(1024)), 1);
    assert.equal(exitCodeFor(new Error('boom')), 1);
    assert.equal(exitCodeFor('weird'), 1);
  });

  test('commander usage errors are 2, help and version are 0', () => {
    assert.equal(exitCodeFor(new CommanderError(1, 'commander.unknownOption', 'x')), 2);
    assert.equal(exitCodeFor(new CommanderError(1, 'commander.missingArgument', 'x')), 2);
    assert.equal(exitCodeFor(new CommanderError(0, 'commander.helpDisplayed', 'x')), 0);
    assert.equal(exitCodeFor(new CommanderError(0, 'commander.version', 'x')), 0);
    // `help` / `help <command>` asked for help; a bare command group is missing its sub-command.
    assert.equal(exitCodeFor(new CommanderError(0, 'commander.help', '(outputHelp)')), 0);
    assert.equal(exitCodeFor(new CommanderError(1, 'commander.help', '(outputHelp)')), 2);
  });

  test("errors shaped like the daemon's own DaemonError map by status", () => {
    const daemonError = Object.assign(new Error('x'), {
      status: 409,
      code: 'session_busy',
      detail: 'busy',
      domain: 'sessions',
    });
    assert.equal(exitCodeFor(daemonError), 6);
    assert.deepEqual(errorLines(daemonError), ['error: session_busy: busy']);
  });
});

describe('error messages', () => {
  test('a problem prints code, detail and domain, plus a hint when the next step is obvious', () => {
    const lines = errorLines(problem(404, 'session_not_found', 'sessions'));
    assert.equal(lines[0], 'error: session_not_found: detail 404 (domain sessions, HTTP 404)');
    assert.match(lines[1], /^hint: .*sessions list/);
  });

  test('401 tells how to pass a token', () => {
    const lines = errorLines(problem(401, 'missing_token', 'auth'));
    assert.match(lines[0], /^error: missing_token: /);
    assert.match(lines[1], /--token.*KHEISH_DAEMON_TOKEN/);
  });

  test('unreachable suggests starting the daemon', () => {
    const lines = errorLines(new DaemonUnreachableError('http://127.0.0.1:4000'));
    assert.match(
      lines[0],
      /^error: daemon_unreachable: cannot reach the daemon at http:\/\/127\.0\.0\.1:4000/,
    );
    assert.match(lines[1], /kheish-daemon serve/);
  });

  test('429 with Retry-After says when to retry', () => {
    const err = new DaemonProblemError(429, { code: 'rate_limited', detail: 'too many' }, 60);
    assert.deepEqual(errorLines(err), ['error: rate_limited: too many (HTTP 429)', 'hint: retry in 60 s']);
  });

  test('a problem without code falls back to the code derived from the status', () => {
    assert.equal(new DaemonProblemError(409, {}).code, 'conflict');
    assert.equal(new DaemonProblemError(418, {}).code, 'daemon_error');
  });
});

describe('commandName', () => {
  test('skips global flags and their values', () => {
    assert.equal(commandName(['--base-url', 'http://x', '--token', 't', 'status']), 'status');
    assert.equal(commandName(['--output=json', 'runs', 'get', 'r']), 'runs');
    assert.equal(commandName(['--help']), undefined);
    assert.equal(commandName([]), undefined);
    assert.equal(commandName(['serve', '--bind', '127.0.0.1:0']), 'serve');
  });
});
