// What every client command needs: the global flags turned into a DaemonClient, the output mode,
// and the process edges (stdout/stderr/stdin/Ctrl-C) behind an interface tests can replace.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { DaemonClient } from '../sdk/client.ts';
import type { SseFrame } from '../sdk/types.ts';
import { UsageError } from './errors.ts';

export type OutputMode = 'pretty' | 'json';

export interface CliIo {
  stdout(text: string): void;
  /** Binary output (`assets raw` without `-o`); text-only test doubles may leave it out. */
  stdoutBytes?(bytes: Uint8Array): void;
  stderr(text: string): void;
  readStdin(): Promise<string>;
  /**
   * One secret line: typed without echo on a terminal, else the whole of standard input (trailing
   * newline dropped). Undefined when the user gave up (Ctrl-C / Ctrl-D on an empty line).
   */
  readSecret?(prompt: string): Promise<string | undefined>;
  /** Registers a Ctrl-C handler; returns the function that removes it. */
  onInterrupt(handler: () => void): () => void;
}

export interface GlobalOptions {
  baseUrl: string;
  token?: string;
  tokenFile?: string;
  output: OutputMode;
}

export class CliRuntime {
  readonly io: CliIo;
  /** Set by commands whose outcome is not an error but still not success (e.g. a failed run). */
  exitCode = 0;
  private program: Command | undefined;
  private cached: DaemonClient | undefined;

  constructor(io: CliIo) {
    this.io = io;
  }

  attach(program: Command): void {
    this.program = program;
  }

  get options(): GlobalOptions {
    if (!this.program) throw new Error('CliRuntime used before attach()');
    return this.program.opts<GlobalOptions>();
  }

  get json(): boolean {
    return this.options.output === 'json';
  }

  client(): DaemonClient {
    if (this.cached) return this.cached;
    const opts = this.options;
    let client: DaemonClient;
    try {
      client = new DaemonClient({ baseUrl: opts.baseUrl, token: this.resolveToken() });
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw new UsageError(
        `invalid --base-url "${opts.baseUrl}": ${(err as Error).message}`,
        'use a URL like http://127.0.0.1:4000',
      );
    }
    this.cached = client;
    return client;
  }

  /**
   * --token beats --token-file when both come from the same place; a flag on the command line
   * beats an environment variable, so `--token-file X` overrides an exported KHEISH_DAEMON_TOKEN.
   */
  private resolveToken(): string | undefined {
    const program = this.program!;
    const { token, tokenFile } = this.options;
    const fromCli = (name: string) => program.getOptionValueSource(name) === 'cli';
    const useFile =
      tokenFile !== undefined && (token === undefined || (fromCli('tokenFile') && !fromCli('token')));
    if (!useFile) return token?.trim() || undefined;
    let text: string;
    try {
      text = readFileSync(tokenFile, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new UsageError(
        `cannot read token file ${tokenFile} (${code})`,
        'check --token-file / KHEISH_DAEMON_TOKEN_FILE',
        4,
      );
    }
    const value = text.trim();
    if (!value)
      throw new UsageError(
        `token file ${tokenFile} is empty`,
        'check --token-file / KHEISH_DAEMON_TOKEN_FILE',
        4,
      );
    return value;
  }

  /** Prints lines to stdout. */
  print(...lines: string[]): void {
    if (lines.length > 0) this.io.stdout(`${lines.join('\n')}\n`);
  }

  /** Prints to stderr: notices that must not pollute data on stdout. */
  note(...lines: string[]): void {
    if (lines.length > 0) this.io.stderr(`${lines.join('\n')}\n`);
  }

  /** Non-stream output: the raw body in json mode, the pretty rendering otherwise. */
  emit<T>(body: T, pretty: (body: T) => string[]): void {
    if (this.json) this.io.stdout(`${JSON.stringify(body, null, 2)}\n`);
    else this.print(...pretty(body));
  }

  /** Streaming json output: one compact JSON document per line. */
  jsonLine(value: unknown): void {
    this.io.stdout(`${JSON.stringify(value)}\n`);
  }

  /** One SSE frame as a JSON line, id first (absent on heartbeats), like the wire order. */
  jsonFrame(frame: SseFrame): void {
    this.jsonLine(
      frame.id === undefined
        ? { event: frame.event, data: frame.data }
        : { id: frame.id, event: frame.event, data: frame.data },
    );
  }
}

/** The real process: what src/main.ts uses. */
export function processIo(): CliIo {
  return {
    stdout: (text) => void process.stdout.write(text),
    stdoutBytes: (bytes) => void process.stdout.write(bytes),
    stderr: (text) => void process.stderr.write(text),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    readSecret: async (prompt) => {
      const stdin = process.stdin;
      if (!stdin.isTTY) {
        const chunks: Buffer[] = [];
        for await (const chunk of stdin) chunks.push(chunk as Buffer);
        return Buffer.concat(chunks)
          .toString('utf8')
          .replace(/[\r\n]+$/, '');
      }
      process.stderr.write(prompt);
      stdin.setRawMode(true);
      stdin.resume();
      try {
        let text = '';
        for await (const chunk of stdin) {
          for (const ch of (chunk as Buffer).toString('utf8')) {
            if (ch === '\r' || ch === '\n') return text;
            if (ch === '\u0003' || (ch === '\u0004' && text === '')) return undefined;
            if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
            else if (ch >= ' ') text += ch;
          }
        }
        return text;
      } finally {
        stdin.setRawMode(false);
        stdin.pause();
        process.stderr.write('\n');
      }
    },
    onInterrupt: (handler) => {
      let count = 0;
      const listener = () => {
        // A second Ctrl-C means "now", even if the graceful stop is stuck.
        if (++count > 1) process.exit(130);
        handler();
      };
      process.on('SIGINT', listener);
      return () => process.off('SIGINT', listener);
    },
  };
}
