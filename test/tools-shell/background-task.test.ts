// The pieces under background shell tasks: the rotating output file (its marker is the durable
// source of the counters) and the boot-time kill, which only signals a group proven to be ours.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import {
  shutdownMarkedProcesses,
  shutdownRecordedGroup,
  startBackground,
} from '../../src/tools/shell/background-process.ts';
import { createBashTool } from '../../src/tools/shell/bash-tool.ts';
import { groupExists } from '../../src/tools/shell/process-group.ts';
import { identify, TASK_ENV_MARKER } from '../../src/tools/shell/process-identity.ts';
import { RotatingLog, readLogState, rotationMarker } from '../../src/tools/shell/rotating-log.ts';
import { tempWorkspace, toolCtx } from './helpers.ts';

const ws = tempWorkspace();
after(() => ws.cleanup());
const linux = process.platform === 'linux';

test('rotation keeps the newest window behind a marker; the file alone restores the counters', () => {
  const file = path.join(ws.base, 'rot.log');
  const log = new RotatingLog(file, 1024);
  let written = '';
  for (let i = 0; i < 100; i++) {
    const line = `line ${String(i).padStart(3, '0')} ${'é'.repeat(10)}\n`;
    log.append(Buffer.from(line));
    written += line;
  }
  log.close();
  const total = Buffer.byteLength(written);
  const state = readLogState(file);
  assert.equal(state.total_bytes, total, 'total bytes observed survive rotation');
  assert.ok(state.rotated && state.rotation_count >= 2);
  assert.ok(state.size_bytes <= 1024 + 120, `retained ${state.size_bytes} bytes`);
  const body = readFileSync(file, 'utf8');
  assert.ok(body.startsWith('[kheish-daemon: output rotated '), body.slice(0, 80));
  assert.ok(body.endsWith('line 099 éééééééééé\n'));
  assert.ok(!body.includes('\uFFFD'), 'never cut inside a UTF-8 sequence');
  assert.deepEqual(log.state(), state, 'in-memory and on-disk views agree');

  // Reopening (e.g. after a restart) continues the same counters.
  const again = new RotatingLog(file, 1024);
  again.append(Buffer.from('more\n'));
  again.close();
  assert.equal(readLogState(file).total_bytes, total + 5);
  assert.equal(readLogState(file).rotation_count, state.rotation_count);
});

test('a file without a marker counts every byte once; a missing file is empty', () => {
  const plain = path.join(ws.base, 'plain.log');
  writeFileSync(plain, 'abc');
  assert.deepEqual(readLogState(plain), { size_bytes: 3, total_bytes: 3, rotation_count: 0, rotated: false });
  assert.equal(readLogState(path.join(ws.base, 'none.log')).size_bytes, 0);
  assert.equal(rotationMarker(1, 10), '[kheish-daemon: output rotated 1 time; 10 earlier bytes discarded]\n');
});

test('startBackground interleaves stdout and stderr into the log and reports the exit', async () => {
  const file = path.join(ws.base, 'run.log');
  const proc = startBackground({
    file: 'bash',
    args: ['-c', 'echo out; echo err >&2; exit 3'],
    cwd: ws.root,
    env: { PATH: process.env.PATH },
    log: new RotatingLog(file, 64 * 1024),
    maxRuntimeMs: 10_000,
    killGraceMs: 500,
  });
  const exit = await proc.exited;
  assert.equal(exit.exit_code, 3);
  assert.equal(exit.stopped, false);
  assert.deepEqual(readFileSync(file, 'utf8').split('\n').sort(), ['', 'err', 'out']);
});

test('the watchdog kills the whole tree at the maximum runtime', async () => {
  const proc = startBackground({
    file: 'bash',
    args: ['-c', 'sleep 30 & sleep 30; echo never'],
    cwd: ws.root,
    env: { PATH: process.env.PATH },
    log: new RotatingLog(path.join(ws.base, 'wd.log'), 64 * 1024),
    maxRuntimeMs: 200,
    killGraceMs: 500,
  });
  const exit = await proc.exited;
  assert.equal(exit.timed_out, true);
  assert.equal(exit.shutdown?.process_tree_shutdown_confirmed, true);
  assert.equal(groupExists(proc.pid!), false);
});

function detachedSleeper(taskId: string) {
  const child = spawn('bash', ['-c', 'sleep 30 & sleep 30'], {
    detached: true,
    stdio: 'ignore',
    env: { PATH: process.env.PATH, [TASK_ENV_MARKER]: taskId },
  });
  child.unref();
  return child.pid!;
}

test('boot kill: a recorded group is signalled only when the leader start time matches', {
  skip: !linux,
}, async () => {
  const pgid = detachedSleeper('task-ours');
  const id = identify(pgid)!;
  try {
    const wrong = await shutdownRecordedGroup(
      { pgid, start_ticks: id.start_ticks + 1, boot_id: id.boot_id },
      'task-other',
      500,
    );
    assert.equal(wrong.process_tree_shutdown_matched_target, false);
    assert.equal(wrong.process_tree_shutdown_signal_sent, false);
    assert.ok(groupExists(pgid), 'a group that is not provably ours is left alone');
    const otherBoot = await shutdownRecordedGroup(
      { pgid, start_ticks: id.start_ticks, boot_id: 'x' },
      'task-ours',
      500,
    );
    assert.equal(otherBoot.process_tree_shutdown_signal_sent, false);
    const ours = await shutdownRecordedGroup(
      { pgid, start_ticks: id.start_ticks, boot_id: id.boot_id },
      'task-ours',
      500,
    );
    assert.equal(ours.process_tree_shutdown_matched_target, true);
    assert.equal(ours.process_tree_shutdown_signal_sent, true);
    assert.equal(ours.process_tree_shutdown_confirmed, true);
    assert.deepEqual(ours.process_tree_remaining_pids, []);
    assert.equal(groupExists(pgid), false);
  } finally {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {}
  }
});

test('boot kill without a recorded group finds the processes by their task marker', {
  skip: !linux,
}, async () => {
  const pgid = detachedSleeper('task-marked');
  try {
    const none = await shutdownMarkedProcesses('task-unrelated', 500);
    assert.equal(none.process_tree_shutdown_signal_sent, false);
    assert.ok(groupExists(pgid));
    const ev = await shutdownMarkedProcesses('task-marked', 500);
    assert.equal(ev.process_tree_shutdown_signal_sent, true);
    assert.equal(ev.process_tree_shutdown_confirmed, true);
    assert.equal(groupExists(pgid), false);
  } finally {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {}
  }
});

test('bash run_in_background hands the prepared command to the launcher and returns at once', async () => {
  const seen: Array<Record<string, any>> = [];
  const tool = createBashTool({
    sandbox: 'off',
    backgroundTasks: {
      launchShellTask: async (req) => {
        seen.push(req);
        return {
          task_id: 'task-x',
          status: 'in_progress',
          output_file_path: '/state/x.log',
          max_runtime_ms: 5,
        };
      },
    },
  });
  const schema = tool.input_schema as { properties: Record<string, { type: string }> };
  assert.equal(schema.properties.run_in_background!.type, 'boolean');
  const res = await tool.execute(
    { command: 'sleep 1000', run_in_background: true, timeout_ms: 3_600_000 },
    toolCtx(ws.root),
  );
  assert.equal(res.is_error, false);
  const body = JSON.parse(res.content);
  assert.equal(body.task_id, 'task-x');
  assert.equal(body.status, 'in_progress');
  assert.equal(body.output_file_path, '/state/x.log');
  assert.equal(seen.length, 1);
  assert.equal(seen[0].command, 'sleep 1000');
  assert.equal(seen[0].timeout_ms, 3_600_000, 'the foreground cap does not apply; the launcher caps');
  assert.deepEqual(seen[0].spawn.args, ['-c', 'sleep 1000']);
  assert.equal(seen[0].spawn.env.KHEISH_API_KEY, undefined);
  assert.equal(seen[0].tool_call_id, 'call-test');
  const refused = await createBashTool({ sandbox: 'off' }).execute(
    { command: 'true', run_in_background: true },
    toolCtx(ws.root),
  );
  assert.equal(refused.is_error, true);
  assert.match(refused.content, /background tasks are not available/);
  const bad = await tool.execute({ command: 'true', run_in_background: 'yes' }, toolCtx(ws.root));
  assert.match(bad.content, /must be a boolean/);
});
