// Promoted procedure definitions (api-collab §4.6): what the daemon writes reads back, through the
// normal skill loader, as the same definition with the same fingerprint, whatever the text
// (YAML-significant characters, numbers, colons, multi-line instructions); any edit of the file is
// drift. And the child's worktree: a detached git worktree in a git workspace, a plain directory
// elsewhere, made once per call.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { fingerprintOf } from '../../src/features/learning-skills/definition.ts';
import { definitionOf } from '../../src/features/learning-skills/request.ts';
import { DaemonSkillRoot } from '../../src/features/learning-skills/skill-root.ts';
import { ensureWorktree, worktreePathOf } from '../../src/features/learning-skills/worktree.ts';
import { tempDir } from '../helpers/daemon.ts';

const name = fc.stringMatching(/^[A-Za-z0-9:_-]{1,30}$/);
// Any text: what cannot read back (control characters) is refused at promotion, never written.
const textish = fc.string({ maxLength: 80, unit: 'binary' });

test('a promoted definition written to the daemon root reads back with the same fingerprint', () => {
  const root = new DaemonSkillRoot(tempDir('kheish-lskills-def-'));
  fc.assert(
    fc.property(
      name,
      textish,
      textish,
      textish,
      fc.array(
        textish.filter((s) => s.trim() !== ''),
        { maxLength: 3 },
      ),
      (n, desc, when, body, lines) => {
        let def: ReturnType<typeof definitionOf>;
        try {
          def = definitionOf(
            {
              skill_name: n,
              description: desc,
              when_to_use: when,
              version: '1.0',
              instructions: [body, ...lines].join('\n'),
              allowed_tools: ['read_file'],
            },
            'fallback content',
          );
        } catch {
          return; // refused as secret-looking: not a round-trip case
        }
        root.write(def);
        const loaded = root.load(n);
        assert.ok(loaded.ok, JSON.stringify(loaded));
        assert.equal(loaded.fingerprint, fingerprintOf(def), JSON.stringify(def));
      },
    ),
    { numRuns: 150 },
  );
});

test('an edited file is drift; the rewrite from the definition restores it', () => {
  const root = new DaemonSkillRoot(tempDir('kheish-lskills-drift-'));
  const def = definitionOf({ skill_name: 'ops:check', instructions: 'Check the thing.\n\nThen report.' }, '');
  root.write(def);
  const file = root.fileOf('ops:check');
  writeFileSync(file, readFileSync(file, 'utf8').replace('Then report.', 'Then do more.'));
  const drifted = root.load('ops:check');
  assert.ok(drifted.ok && drifted.fingerprint !== fingerprintOf(def));
  writeFileSync(join(root.dirOf('ops:check'), 'agents', 'kheish.yaml'), 'context: inline\n');
  assert.equal(root.load('ops:check').ok, false, 'not fork + verification any more');
  root.write(def);
  const back = root.load('ops:check');
  assert.ok(back.ok && back.fingerprint === fingerprintOf(def));
});

test('the child worktree: a detached git worktree in a git workspace, a directory elsewhere, reused by the same call', async () => {
  const plain = tempDir('kheish-lskills-plain-');
  const p1 = worktreePathOf(plain, 'ops:check', 'run-1', 'call/1');
  assert.equal(p1, join(plain, '.kheish-procedural-worktrees', 'ops_check', 'run-1-call_1'));
  assert.deepEqual(await ensureWorktree(plain, p1, AbortSignal.timeout(10_000)), {
    path: p1,
    kind: 'directory',
  });

  const repo = tempDir('kheish-lskills-git-');
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', repo, '-c', 'user.email=t@example.invalid', '-c', 'user.name=t', ...args]);
  git('init', '-q');
  writeFileSync(join(repo, 'README'), 'hello\n');
  git('add', 'README');
  git('commit', '-qm', 'first');
  const p2 = worktreePathOf(repo, 'ops:check', 'run-2', 'call-1');
  const made = await ensureWorktree(repo, p2, AbortSignal.timeout(30_000));
  assert.equal(made.kind, 'git');
  assert.equal(readFileSync(join(p2, 'README'), 'utf8'), 'hello\n');
  assert.ok(existsSync(join(p2, '.git')));
  assert.deepEqual(
    await ensureWorktree(repo, p2, AbortSignal.timeout(10_000)),
    made,
    'the same call reuses it',
  );
});
