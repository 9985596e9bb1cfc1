// `runtime routes add | remove` (issue 21): model routes added to and removed from a running daemon
// through the SDK (POST/DELETE /v1/runtime/routes). The key is read from an environment variable,
// a file or stdin, never from a flag value, so it stays out of shell history and `ps`.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { type AddRouteRequest, RuntimeResource } from '../sdk/resources-admin.ts';
import { UsageError } from './errors.ts';
import { keyValues, scalar } from './format.ts';
import { revision } from './parse.ts';
import type { CliRuntime } from './runtime.ts';

interface AddFlags {
  provider: string;
  model?: string;
  baseUrl?: string;
  apiKeyEnv?: string;
  apiKeyFile?: string;
  apiKeyStdin?: boolean;
  authRef?: string;
  expectedRevision?: number;
}

async function apiKey(rt: CliRuntime, f: AddFlags): Promise<string | undefined> {
  const sources = [f.apiKeyEnv, f.apiKeyFile, f.apiKeyStdin, f.authRef].filter((x) => x !== undefined);
  if (sources.length > 1)
    throw new UsageError(
      'give the key one way: --api-key-env, --api-key-file, --api-key-stdin or --auth-ref',
    );
  if (f.apiKeyEnv !== undefined) {
    const value = process.env[f.apiKeyEnv]?.trim();
    if (!value) throw new UsageError(`environment variable ${f.apiKeyEnv} is not set`);
    return value;
  }
  if (f.apiKeyFile !== undefined) return readFileSync(f.apiKeyFile, 'utf8').trim();
  if (f.apiKeyStdin) return (await rt.io.readStdin()).trim();
  return undefined;
}

/** Adds `add` and `remove` under the `runtime routes` command (which lists the routes). */
export function registerRouteCommands(routes: Command, rt: CliRuntime): void {
  const api = () => new RuntimeResource(rt.client());
  routes
    .command('add')
    .description('add a model route to the running daemon; its key goes to the encrypted secret store')
    .argument('<route_id>', 'name of the route (letters, digits, ., _, -)')
    .requiredOption(
      '--provider <driver>',
      'openai | anthropic | google | openrouter | xai | openai_compatible',
    )
    .option('--model <model>', "the route's default model (each provider has one)")
    .option('--base-url <url>', 'provider endpoint (required for openai_compatible)')
    .option('--api-key-env <VAR>', 'read the API key from this environment variable')
    .option('--api-key-file <file>', 'read the API key from a file')
    .option('--api-key-stdin', 'read the API key from standard input')
    .option('--auth-ref <slot>', 'use a secret slot already stored instead of a key')
    .option('--expected-revision <n>', 'fail with 409 unless the runtime is at this revision', revision)
    .action(async (routeId: string, f: AddFlags) => {
      const body: AddRouteRequest = { route_id: routeId, provider: f.provider };
      if (f.model) body.model = f.model;
      if (f.baseUrl) body.base_url = f.baseUrl;
      const key = await apiKey(rt, f);
      if (key !== undefined) body.api_key = key;
      if (f.authRef) body.auth_ref = f.authRef;
      if (f.expectedRevision !== undefined) body.expected_revision = f.expectedRevision;
      const added = await api().addRoute(body);
      rt.emit(added, (a) =>
        keyValues([
          ['route', scalar(a.route.route_id)],
          ['provider', scalar(a.route.provider)],
          ['model', scalar(a.route.model)],
          ['readiness', scalar(a.route.readiness)],
          ['key slot', scalar(a.route.auth_ref)],
          ['default route', scalar(a.default_route)],
        ]),
      );
    });
  routes
    .command('remove')
    .alias('delete')
    .description('remove a route added at runtime (and its stored key)')
    .argument('<route_id>')
    .option('--expected-revision <n>', 'fail with 409 unless the runtime is at this revision', revision)
    .action(async (routeId: string, f: { expectedRevision?: number }) => {
      const out = await api().deleteRoute(routeId, { expectedRevision: f.expectedRevision });
      rt.emit(out, (o) => [
        `removed route ${o.route_id} (revision ${o.revision}); default route: ${o.default_route ?? 'none'}`,
      ]);
    });
}
