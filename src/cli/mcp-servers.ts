// `mcp add | remove` (issue 21): MCP servers connected to and disconnected from a running daemon
// through the SDK (POST/DELETE /v1/runtime/mcp/servers). Secret values are read from environment
// variables (`--secret-env KEY=VAR`, `--secret-header H=VAR`), never from flag values.
import type { Command } from 'commander';
import { type AddMcpServerRequest, McpResource } from '../sdk/mcp.ts';
import type { JsonObject } from '../sdk/types.ts';
import { UsageError } from './errors.ts';
import { keyValues, scalar } from './format.ts';
import type { CliRuntime } from './runtime.ts';

const collect = (value: string, previous: string[] = []) => [...previous, value];

function pairs(list: string[] | undefined, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    const at = item.indexOf('=');
    if (at <= 0) throw new UsageError(`${flag} expects KEY=VALUE, got \`${item}\``);
    out[item.slice(0, at)] = item.slice(at + 1);
  }
  return out;
}

function fromEnv(map: Record<string, string>, flag: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(map).map(([key, variable]) => {
      const value = process.env[variable];
      if (!value)
        throw new UsageError(`${flag} ${key}=${variable}: environment variable ${variable} is not set`);
      return [key, value];
    }),
  );
}

interface AddFlags {
  command?: string;
  arg?: string[];
  env?: string[];
  cwd?: string;
  url?: string;
  header?: string[];
  secretEnv?: string[];
  secretHeader?: string[];
  bearerTokenEnv?: string;
}

export function registerMcpServers(mcp: Command, rt: CliRuntime): void {
  const api = () => new McpResource(rt.client());
  mcp
    .command('add')
    .description(
      'connect an MCP server to the running daemon (stdio --command or HTTP --url); kept across restarts',
    )
    .argument('<name>', 'server name; its tools become mcp__<name>__<tool>')
    .option('--command <cmd>', 'stdio: the program to run')
    .option('--arg <arg>', 'stdio: one argument (repeatable)', collect)
    .option('--env <KEY=VALUE>', 'stdio: a plain environment variable (repeatable)', collect)
    .option('--cwd <dir>', 'stdio: working directory')
    .option('--url <url>', 'Streamable HTTP endpoint')
    .option('--header <H=VALUE>', 'HTTP: a plain header (repeatable)', collect)
    .option('--secret-env <KEY=VAR>', 'stdio: env KEY from $VAR, stored encrypted (repeatable)', collect)
    .option('--secret-header <H=VAR>', 'HTTP: header H from $VAR, stored encrypted (repeatable)', collect)
    .option('--bearer-token-env <VAR>', 'HTTP: bearer token from $VAR, stored encrypted')
    .action(async (name: string, f: AddFlags) => {
      if (!f.command === !f.url)
        throw new UsageError('give exactly one of --command (stdio) or --url (HTTP)');
      const config: JsonObject = f.command
        ? { command: f.command, args: f.arg ?? [], env: pairs(f.env, '--env') }
        : { url: f.url!, headers: pairs(f.header, '--header') };
      if (f.cwd) config.cwd = f.cwd;
      const body: AddMcpServerRequest = { name, config };
      const env = fromEnv(pairs(f.secretEnv, '--secret-env'), '--secret-env');
      const headers = fromEnv(pairs(f.secretHeader, '--secret-header'), '--secret-header');
      const secrets: AddMcpServerRequest['secrets'] = {};
      if (Object.keys(env).length) secrets.env = env;
      if (Object.keys(headers).length) secrets.headers = headers;
      if (f.bearerTokenEnv)
        secrets.bearer_token = fromEnv({ token: f.bearerTokenEnv }, '--bearer-token-env').token;
      if (Object.keys(secrets).length) body.secrets = secrets;
      const server = await api().addServer(body);
      rt.emit(server, (s) =>
        keyValues([
          ['server', scalar(s.server)],
          ['transport', scalar(s.transport)],
          ['connected', scalar(s.connected)],
          ['tools', String((s.tools as string[] | undefined)?.length ?? 0)],
          ['error', s.error ? scalar(s.error) : undefined],
        ]),
      );
      if (server.connected !== true) rt.exitCode = 1;
    });
  mcp
    .command('remove')
    .description('disconnect an MCP server added at runtime; its tools and stored secrets go with it')
    .argument('<name>')
    .action(async (name: string) => {
      const out = await api().removeServer(name);
      rt.emit(out, (o) => [`removed MCP server ${scalar(o.name)} (revision ${scalar(o.revision)})`]);
    });
}
