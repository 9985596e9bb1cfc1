// CLI entry (bin/kheish-daemon runs this file on the project's Node 24): builds the program,
// runs it, and leaves the exit code for Node to use once pending output has been flushed.
//
// Only Node built-ins are imported statically: everything else is imported below, after the
// compile cache is on, so that it applies to every module of the process.
import { readFileSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import type { Command } from 'commander';

// Node's on-disk compile cache (V8 code cache plus the type-stripped source of our .ts files, in
// $NODE_COMPILE_CACHE or <tmpdir>/node-compile-cache; NODE_DISABLE_COMPILE_CACHE=1 turns it off).
// Module loading is most of a start-up: with the cache warm, `serve` is ready about 30% sooner.
// It never throws: a cache that cannot be used is simply not used.
enableCompileCache();

function packageVersion(): string | undefined {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version;
  } catch {
    return undefined;
  }
}

const { commandName, createProgram } = await import('./cli/program-base.ts');
const name = commandName(process.argv.slice(2));
const serveOnly = name === 'serve' || name === 'start' || name === 'up';
// `serve` pulls in the whole server (fastify, SQLite, engine): a client command like `status`
// should not pay for it, and `serve` should not pay for the client commands. Both are loaded
// only when help is listing all commands (or a completion script names them all).
const extraCommands: Array<(program: Command) => void> = [];
if (name === undefined || serveOnly || name === 'help' || name === 'completion') {
  const { registerServe } = await import('./cli/serve.ts');
  const { registerUp } = await import('./cli/up.ts');
  extraCommands.push(registerServe, registerUp);
}

// `kheish-daemon events | head` closes our stdout early; that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const opts = { extraCommands, version: packageVersion() };
const cli = serveOnly ? createProgram(opts, []) : (await import('./cli/program.ts')).createCli(opts);
// exitCode rather than process.exit(): stdout writes to a pipe are asynchronous, and `serve`
// returns from its action while the server keeps the process alive.
process.exitCode = await cli.run(process.argv);
