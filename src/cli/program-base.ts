// The `kheish-daemon` program without its client command groups: global flags (ops-runtime
// §2.1), the error → exit code translation (§2.2) and sub-command detection. `serve` is built on
// this alone so that starting the daemon does not load the client commands (src/cli/program.ts).
import { Command, CommanderError, Option } from 'commander';
import { DEFAULT_BASE_URL } from '../sdk/client.ts';
import { errorLines, exitCodeFor } from './errors.ts';
import { type CliIo, CliRuntime, processIo } from './runtime.ts';

export interface CliOptions {
  io?: CliIo;
  /** Registered right after the global flags, e.g. `registerServe` from src/cli/serve.ts. */
  extraCommands?: Array<(program: Command) => void>;
  version?: string;
}

export interface Cli {
  program: Command;
  runtime: CliRuntime;
  /** Parses argv (process.argv layout) and runs the command; resolves to the exit code. */
  run(argv: string[]): Promise<number>;
}

export type CommandGroup = (program: Command, rt: CliRuntime) => void;

/** The program with the global flags, `opts.extraCommands`, then `groups`, in that order. */
export function createProgram(opts: CliOptions, groups: CommandGroup[]): Cli {
  const io = opts.io ?? processIo();
  const rt = new CliRuntime(io);
  const program = new Command('kheish-daemon');
  program
    .description('Kheish daemon: persistent agent runtime and its operator client')
    // Commander would call process.exit; we map its errors to the documented exit codes instead.
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) })
    .showHelpAfterError('(run with --help for usage)')
    .addOption(
      new Option('--base-url <url>', 'control-plane URL for client commands')
        .env('KHEISH_DAEMON_URL')
        .default(DEFAULT_BASE_URL),
    )
    .addOption(
      new Option('--token <token>', 'bearer token for a protected daemon').env('KHEISH_DAEMON_TOKEN'),
    )
    .addOption(
      new Option('--token-file <path>', 'file containing the bearer token').env('KHEISH_DAEMON_TOKEN_FILE'),
    )
    .addOption(
      new Option('--output <format>', 'output of non-stream commands')
        .choices(['pretty', 'json'])
        .default('pretty'),
    );
  rt.attach(program);

  for (const register of opts.extraCommands ?? []) register(program);
  for (const register of groups) register(program, rt);

  const run = async (argv: string[]): Promise<number> => {
    try {
      // Commander's version flag is a program option, which it would take anywhere in argv and so
      // steal from sub-commands that have a `--version <v>` of their own (`playbooks publish`):
      // it is only offered when no sub-command is named.
      if (opts.version && commandName(argv.slice(2)) === undefined) program.version(opts.version);
      await program.parseAsync(argv);
      return rt.exitCode;
    } catch (err) {
      // Commander already printed its own usage message.
      if (!(err instanceof CommanderError)) rt.note(...errorLines(err));
      return exitCodeFor(err);
    }
  };
  return { program, runtime: rt, run };
}

// Kept in step with the global options above.
const GLOBAL_FLAGS_WITH_VALUE = new Set(['--base-url', '--token', '--token-file', '--output']);

/** The sub-command name in argv, skipping global flags and their values. */
export function commandName(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (GLOBAL_FLAGS_WITH_VALUE.has(arg)) i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}
