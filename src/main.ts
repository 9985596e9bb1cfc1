// CLI entry (bin/kheish-daemon runs this file on the project's Node 24): builds the program,
// runs it, and leaves the exit code for Node to use once pending output has been flushed.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { commandName, createCli } from './cli/program.ts';

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

// `serve` pulls in the whole server (fastify, SQLite, engine): about a second of start-up that a
// client command like `status` should not pay. Load it only when it can be the command or help
// is listing all commands.
const name = commandName(process.argv.slice(2));
const extraCommands: Array<(program: Command) => void> = [];
if (name === undefined || name === 'serve' || name === 'start' || name === 'help') {
  const { registerServe } = await import('./cli/serve.ts');
  extraCommands.push(registerServe);
}

// `kheish-daemon events | head` closes our stdout early; that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const cli = createCli({ extraCommands, version: packageVersion() });
// exitCode rather than process.exit(): stdout writes to a pipe are asynchronous, and `serve`
// returns from its action while the server keeps the process alive.
process.exitCode = await cli.run(process.argv);
