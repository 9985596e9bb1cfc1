// CLI commands that need no running daemon: help, secrets for every route driver, offline
// `doctor routes` reading the secret store (SQLite state root and PostgreSQL), and the shell
// completion scripts. Each runs the real binary.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { PROVIDER_DRIVERS } from '../../src/models/drivers/index.ts';
import { BIN, tempDir } from '../helpers/daemon.ts';
import { freshSchema } from '../helpers/pg-schema.ts';

// A developer's shell must not change what the CLI reads.
const baseEnv = { ...process.env };
for (const name of ['KHEISH_STATE_ROOT', 'KHEISH_DATABASE_URL', 'KHEISH_AUTH_STORE_MASTER_KEY_FILE'])
  delete baseEnv[name];

const cli = (args: string[], env: Record<string, string> = {}, input?: string) =>
  spawnSync(BIN, args, { encoding: 'utf8', env: { ...baseEnv, ...env }, input, timeout: 60_000 });

const dir = tempDir('kheish-cli-offline-');
const key = cli(['secrets', 'generate']).stdout.trim();
const keyEnv = { KHEISH_AUTH_STORE_MASTER_KEY: key };

test('help and help <command> exit 0; a command group without its sub-command is a usage error', () => {
  const help = cli(['help']);
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /Commands:/);
  const helpRuns = cli(['help', 'runs']);
  assert.equal(helpRuns.status, 0, helpRuns.stderr);
  assert.match(helpRuns.stdout + helpRuns.stderr, /Usage: kheish-daemon runs/);
  assert.equal(cli(['runs']).status, 2);
});

test('secrets set --provider accepts every route driver name, and asks for the value when no source is given', () => {
  const root = join(dir, 'drivers');
  for (const driver of ['generic', ...PROVIDER_DRIVERS]) {
    const r = cli(
      ['secrets', 'set', `slot.${driver}`, '--provider', driver, '--offline', '--state-root', root],
      keyEnv,
      'sk-test-value\n',
    );
    assert.equal(r.status, 0, `${driver}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`stored secret slot\\.${driver}`));
  }
  const list = cli(['--output', 'json', 'secrets', 'list', '--offline', '--state-root', root], keyEnv);
  const slots = JSON.parse(list.stdout) as Array<{ slot_id: string; provider: string; mode: string }>;
  const compatible = slots.find((s) => s.slot_id === 'slot.openai_compatible');
  assert.deepEqual(
    { provider: compatible?.provider, mode: compatible?.mode },
    { provider: 'generic', mode: 'api_key' },
  );
  const revealed = cli(
    ['secrets', 'get', 'slot.openai_compatible', '--reveal', '--offline', '--state-root', root],
    keyEnv,
  );
  assert.equal(revealed.stdout.trim(), 'sk-test-value');
});

const routesFile = join(dir, 'routes.toml');
writeFileSync(
  routesFile,
  'version = 1\ndefault_route = "local"\n\n[routes.local]\ndriver = "openai_compatible"\ndefault_model = "llama3"\nbase_url = "http://127.0.0.1:9/v1"\nauth_ref = "local.key"\n',
);

test('offline doctor routes reads the auth_ref slots of --state-root, and its suggested command runs as printed', () => {
  const root = join(dir, 'doctor-root');
  const before = cli(['doctor', 'routes', '--routes-file', routesFile, '--state-root', root], keyEnv);
  assert.equal(before.status, 1, 'the default route is not ready yet');
  const action = /action: store the key with `([^`]+)`/.exec(before.stdout);
  assert.ok(action, before.stdout);
  assert.match(action[1]!, /--provider openai_compatible --offline --state-root /);
  // The printed command, word for word (it asks for the value on standard input).
  const words = action[1]!.split(' ');
  assert.equal(words[0], 'kheish-daemon');
  const set = cli(words.slice(1), keyEnv, 'sk-local\n');
  assert.equal(set.status, 0, set.stderr);

  const flag = cli(['doctor', 'routes', '--routes-file', routesFile, '--state-root', root], keyEnv);
  assert.equal(flag.status, 0, flag.stdout + flag.stderr);
  assert.match(flag.stdout, /local\s+openai_compatible\s+llama3\s+ok\s+yes/);
  // The same environment as `serve` works too.
  const env = cli(['doctor', 'routes', '--routes-file', routesFile], { ...keyEnv, KHEISH_STATE_ROOT: root });
  assert.equal(env.status, 0, env.stdout + env.stderr);
});

test('serve refusing a missing auth_ref slot prints the command that creates it, which runs as printed', () => {
  const root = join(dir, 'serve-root');
  const refused = cli(
    ['serve', '--bind', '127.0.0.1:0', '--state-root', root, '--routes-file', routesFile],
    keyEnv,
  );
  assert.equal(refused.status, 2, refused.stderr);
  const command = /Create it with `([^`]+)`/.exec(refused.stderr);
  assert.ok(command, refused.stderr);
  assert.equal(
    command[1],
    `kheish-daemon secrets set local.key --provider openai_compatible --offline --state-root ${root}`,
  );
  const set = cli(command[1]!.split(' ').slice(1), keyEnv, 'sk-local\n');
  assert.equal(set.status, 0, set.stderr);
  const doctor = cli(['doctor', 'routes', '--routes-file', routesFile, '--state-root', root], keyEnv);
  assert.equal(doctor.status, 0, doctor.stdout);
});

test('offline doctor routes without a store says which flag gives it one', () => {
  const r = cli(['doctor', 'routes', '--routes-file', routesFile, '--state-root', join(dir, 'none')], keyEnv);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /note: no daemon state at .*none.*--state-root.*KHEISH_DATABASE_URL/);
});

test('offline doctor routes reads a PostgreSQL store through KHEISH_DATABASE_URL', async () => {
  const schema = await freshSchema();
  try {
    const env = { ...keyEnv, KHEISH_DATABASE_URL: schema.url, KHEISH_STATE_ROOT: join(dir, 'pg-root') };
    const missing = cli(['doctor', 'routes', '--routes-file', routesFile], env);
    assert.equal(missing.status, 1, missing.stdout + missing.stderr);
    assert.match(missing.stdout, /secret slot `local\.key` is missing/);
    const set = cli(
      ['secrets', 'set', 'local.key', '--provider', 'openai_compatible', '--offline'],
      env,
      'k\n',
    );
    assert.equal(set.status, 0, set.stderr);
    const ok = cli(['doctor', 'routes', '--routes-file', routesFile], env);
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  } finally {
    await schema.drop();
  }
});

test('completion bash is valid bash and completes through the registered complete function', () => {
  const script = cli(['completion', 'bash']);
  assert.equal(script.status, 0, script.stderr);
  const file = join(dir, 'completion.bash');
  writeFileSync(file, script.stdout);
  const syntax = spawnSync('bash', ['-n', file], { encoding: 'utf8' });
  assert.equal(syntax.status, 0, syntax.stderr);
  // Ask bash which function completes kheish-daemon (`complete -p`), then call it as readline would.
  const complete = (...words: string[]) => {
    const program = `source ${JSON.stringify(file)}
fn=$(complete -p kheish-daemon | sed -E 's/.*-F ([^ ]+).*/\\1/')
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1))
"$fn" kheish-daemon "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\\n' "\${COMPREPLY[@]}"`;
    const r = spawnSync('bash', ['-c', program], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean).sort();
  };
  assert.deepEqual(complete('kheish-daemon', 'ru'), ['run', 'runs', 'runtime']);
  assert.deepEqual(complete('kheish-daemon', 'runs', 'list', '--ord'), ['--order']);
  assert.deepEqual(complete('kheish-daemon', 'runs', 'list', '--order', ''), ['asc', 'desc']);
  assert.deepEqual(complete('kheish-daemon', '--base-url', 'http://x', 'sess'), ['session', 'sessions']);
  assert.ok(complete('kheish-daemon', 'session', 'set-').includes('set-credential-scope'));
  assert.deepEqual(complete('kheish-daemon', 'completion', ''), ['bash', 'fish', 'zsh']);
});

test('completion zsh and fish name every top-level command', () => {
  for (const shell of ['zsh', 'fish']) {
    const r = cli(['completion', shell]);
    assert.equal(r.status, 0, r.stderr);
    for (const command of ['serve', 'runs', 'runtime', 'sessions', 'doctor', 'completion'])
      assert.ok(r.stdout.includes(`'${command}'`), `${shell} script names ${command}`);
  }
  assert.equal(cli(['completion', 'ksh']).status, 2);
});

after(() => {
  spawnSync('rm', ['-rf', dir]);
});
