import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ToolRegistry } from '../../src/tools/registry.ts';
import type { ShellToolOptions } from '../../src/tools/shell/bash-tool.ts';
import { createBashTool, registerShellTool } from '../../src/tools/shell/index.ts';
import { sandboxStatus } from '../../src/tools/shell/sandbox.ts';
import { killLeftovers, marker, tempWorkspace, toolCtx, waitGone, waitStarted } from './helpers.ts';

// Every behaviour is checked unsandboxed (forced off) and, where bwrap works, sandboxed.
const MODES: Array<'off' | 'auto'> = sandboxStatus().available ? ['off', 'auto'] : ['off'];

async function bash(args: Record<string, unknown>, opts: ShellToolOptions, root: string | null) {
  const r = await createBashTool(opts).execute(args, toolCtx(root));
  return { ...r, out: r.is_error && !r.content.startsWith('{') ? undefined : JSON.parse(r.content) };
}

for (const mode of MODES) {
  test(`bash [${mode}]: stdout, stderr, exit code and the spec's output fields`, async () => {
    const ws = tempWorkspace();
    try {
      const r = await bash({ command: 'echo out; echo err >&2; pwd; exit 3' }, { sandbox: mode }, ws.root);
      assert.equal(r.is_error, false, 'a non-zero exit is an answer, not a tool error');
      assert.equal(r.out.exit_code, 3);
      assert.equal(r.out.success, false);
      assert.equal(r.out.stdout, `out\n${ws.root}\n`);
      assert.equal(r.out.stderr, 'err\n');
      assert.equal(r.out.workdir, ws.root);
      assert.equal(r.out.command, 'echo out; echo err >&2; pwd; exit 3');
      assert.equal(r.out.sandboxed, mode === 'auto');
      const okRun = await bash({ command: 'true' }, { sandbox: mode }, ws.root);
      assert.equal(okRun.out.success, true);
      assert.equal(okRun.out.exit_code, 0);
    } finally {
      ws.cleanup();
    }
  });

  test(`bash [${mode}]: timeout kills the whole process group, grandchildren included`, async () => {
    const ws = tempWorkspace();
    const m = marker();
    try {
      // The subshell forks a grandchild and exits at once, so the grandchild is orphaned but
      // still in the group; the foreground sleep keeps the command alive until the timeout.
      const r = await bash(
        { command: `(sleep ${m} &); sleep ${m}`, timeout_ms: 400 },
        { sandbox: mode },
        ws.root,
      );
      assert.equal(r.is_error, true);
      assert.equal(r.out.timed_out, true);
      assert.equal(r.out.success, false);
      assert.match(r.out.error, /timed out after 400 ms; its process group was killed/);
      assert.deepEqual(await waitGone(`sleep ${m}`), [], 'no sleep survived');
    } finally {
      killLeftovers(`sleep ${m}`);
      ws.cleanup();
    }
  });

  test(`bash [${mode}]: processes ignoring SIGTERM are SIGKILLed after the grace period`, async () => {
    const ws = tempWorkspace();
    const m = marker();
    try {
      const cmd = `trap '' TERM; (trap '' TERM; exec sleep ${m}) & sleep ${m}`;
      const r = await bash({ command: cmd, timeout_ms: 300 }, { sandbox: mode, killGraceMs: 300 }, ws.root);
      assert.equal(r.out.timed_out, true);
      assert.deepEqual(await waitGone(`sleep ${m}`), []);
    } finally {
      killLeftovers(`sleep ${m}`);
      ws.cleanup();
    }
  });

  test(`bash [${mode}]: cancelling the run kills the group and rejects the call`, async () => {
    const ws = tempWorkspace();
    const m = marker();
    try {
      const ac = new AbortController();
      const call = createBashTool({ sandbox: mode }).execute(
        { command: `sleep ${m} & sleep ${m}; echo never` },
        toolCtx(ws.root, ac.signal),
      );
      await waitStarted(`sleep ${m}`);
      ac.abort(new Error('run cancelled by operator'));
      await assert.rejects(call, /run cancelled by operator/);
      assert.deepEqual(await waitGone(`sleep ${m}`), []);
    } finally {
      killLeftovers(`sleep ${m}`);
      ws.cleanup();
    }
  });

  test(`bash [${mode}]: background jobs do not outlive the call`, async () => {
    const ws = tempWorkspace();
    const m = marker();
    try {
      const r = await bash(
        { command: `sleep ${m} & echo started` },
        { sandbox: mode, killGraceMs: 500 },
        ws.root,
      );
      assert.equal(r.out.stdout, 'started\n');
      assert.deepEqual(await waitGone(`sleep ${m}`), []);
    } finally {
      killLeftovers(`sleep ${m}`);
      ws.cleanup();
    }
  });

  test(`bash [${mode}]: stdout and stderr are capped with an explicit truncation marker`, async () => {
    const ws = tempWorkspace();
    try {
      const cmd = `head -c 300000 /dev/zero | tr '\\0' a; echo END; head -c 5000 /dev/zero | tr '\\0' e >&2`;
      const r = await bash({ command: cmd }, { sandbox: mode, maxOutputBytes: 1000 }, ws.root);
      assert.equal(r.out.stdout_truncated, true);
      assert.equal(r.out.stderr_truncated, true);
      assert.equal(r.out.stdout_bytes, 300004);
      assert.match(
        r.out.stdout,
        /^a{500}\n\[\.\.\. 299004 bytes of stdout omitted: output exceeded the 1000-byte cap;/,
      );
      assert.match(r.out.stdout, /a+END\n$/, 'the end of the output is kept');
      assert.match(r.out.stderr, /bytes of stderr omitted/);
      assert.ok(r.out.stdout.length < 1300);
      const small = await bash({ command: 'echo fine' }, { sandbox: mode, maxOutputBytes: 1000 }, ws.root);
      assert.equal(small.out.stdout_truncated, false);
    } finally {
      ws.cleanup();
    }
  });

  test(`bash [${mode}]: the daemon's environment does not leak into commands`, async () => {
    const ws = tempWorkspace();
    process.env['KHEISH_FAKE_API_KEY'] = 'sk-should-not-leak';
    try {
      const r = await bash(
        { command: 'echo "[$KHEISH_FAKE_API_KEY][$EXTRA]"; test -n "$PATH" && echo path-set' },
        { sandbox: mode, env: { EXTRA: 'given' } },
        ws.root,
      );
      assert.equal(r.out.stdout, '[][given]\npath-set\n');
    } finally {
      delete process.env['KHEISH_FAKE_API_KEY'];
      ws.cleanup();
    }
  });
}

test('bash: refused without a workspace root', async () => {
  const r = await createBashTool({ sandbox: 'off' }).execute({ command: 'echo hi' }, toolCtx(null));
  assert.equal(r.is_error, true);
  assert.match(r.content, /no workspace root configured/);
});

test('bash: workdir stays inside the workspace (.., absolute, symlink escapes refused)', async () => {
  const ws = tempWorkspace();
  try {
    mkdirSync(path.join(ws.root, 'sub'));
    writeFileSync(path.join(ws.root, 'file.txt'), 'x');
    symlinkSync(ws.base, path.join(ws.root, 'escape'));
    const ok = await bash({ command: 'pwd', workdir: 'sub' }, { sandbox: 'off' }, ws.root);
    assert.equal(ok.out.stdout, `${path.join(ws.root, 'sub')}\n`);
    const refusals: Array<[string, RegExp]> = [
      ['..', /outside the workspace root/],
      ['sub/../..', /outside the workspace root/],
      ['/etc', /outside the workspace root/],
      ['escape', /resolves outside the workspace root/],
      ['missing', /does not exist/],
      ['file.txt', /not a directory/],
    ];
    for (const [workdir, why] of refusals) {
      const r = await bash({ command: 'pwd', workdir }, { sandbox: 'off' }, ws.root);
      assert.equal(r.is_error, true, workdir);
      assert.match(r.content, why, workdir);
    }
  } finally {
    ws.cleanup();
  }
});

test('bash: arguments are validated; timeout_ms is capped by the configured maximum', async () => {
  const ws = tempWorkspace();
  try {
    const tool = createBashTool({ sandbox: 'off', maxTimeoutMs: 300 });
    for (const args of [{}, { command: '' }, { command: 42 }, { command: 'true', timeout_ms: -5 }]) {
      const r = await tool.execute(args, toolCtx(ws.root));
      assert.equal(r.is_error, true, JSON.stringify(args));
    }
    const r = await bash(
      { command: 'sleep 5', timeout_ms: 600_000 },
      { sandbox: 'off', maxTimeoutMs: 300 },
      ws.root,
    );
    assert.equal(r.out.timeout_ms, 300);
    assert.equal(r.out.timed_out, true);
  } finally {
    ws.cleanup();
  }
});

test('bash: live ToolRuntimeLimits lower the timeout and output caps at each call', async () => {
  const ws = tempWorkspace();
  try {
    let limits = { max_timeout_ms: 250, max_output_bytes: 100 };
    const tool = createBashTool({ sandbox: 'off', limits: () => limits });
    const first = JSON.parse(
      (await tool.execute({ command: 'head -c 1000 /dev/zero | tr "\\0" z; sleep 5' }, toolCtx(ws.root)))
        .content,
    );
    assert.equal(first.timeout_ms, 250);
    assert.equal(first.timed_out, true);
    assert.equal(first.stdout_truncated, true);
    limits = { max_timeout_ms: 600_000, max_output_bytes: 16 * 1024 * 1024 };
    const second = JSON.parse(
      (await tool.execute({ command: 'head -c 1000 /dev/zero | tr "\\0" z' }, toolCtx(ws.root))).content,
    );
    assert.equal(second.timeout_ms, 20_000, 'a generous limit does not raise the tool default');
    assert.equal(second.stdout, 'z'.repeat(1000));
  } finally {
    ws.cleanup();
  }
});

test('bash: sandbox "require" refuses to run when bwrap is unavailable; "off" never sandboxes', async () => {
  const ws = tempWorkspace();
  try {
    const unavailable = () => ({ available: false, reason: 'bwrap (bubblewrap) is not installed' });
    const r = await createBashTool({ sandbox: 'require', sandboxStatus: unavailable }).execute(
      { command: 'echo hi' },
      toolCtx(ws.root),
    );
    assert.equal(r.is_error, true);
    assert.match(r.content, /sandbox is required but unavailable: bwrap \(bubblewrap\) is not installed/);
    const auto = await bash({ command: 'echo hi' }, { sandbox: 'auto', sandboxStatus: unavailable }, ws.root);
    assert.equal(auto.out.sandboxed, false, 'auto falls back to unsandboxed and says so');
    assert.equal(auto.out.network, true);
  } finally {
    ws.cleanup();
  }
});

test('registerShellTool: registers `bash` as side-effecting with the spec parameters', () => {
  const registry = new ToolRegistry();
  registerShellTool(registry, { sandbox: 'off' });
  const tool = registry.get('bash')!;
  assert.equal(tool.side_effects, true);
  const schema = tool.input_schema as { required: string[]; properties: Record<string, unknown> };
  assert.deepEqual(schema.required, ['command']);
  assert.ok('workdir' in schema.properties);
});
