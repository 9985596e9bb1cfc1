// `mcp oauth login|status|logout` (ops-runtime §2.9, §5.5): an MCP OAuth account for an HTTP MCP
// server, obtained on the CLI host (protected-resource and authorization-server discovery,
// dynamic client registration when advertised, authorization code + PKCE S256 with `resource`,
// a loopback callback with `state` checked) and imported write-only into the daemon.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  discoverAuthorizationServerMetadata,
  discoverOAuthProtectedResourceMetadata,
  exchangeAuthorization,
  registerClient,
  startAuthorization,
} from '@modelcontextprotocol/sdk/client/auth.js';
import type { Command } from 'commander';
import { catalogEntry } from '../config/mcp-catalog.ts';
import { AuthResource } from '../sdk/auth.ts';
import { UsageError } from './errors.ts';
import { keyValues } from './format.ts';
import type { CliRuntime } from './runtime.ts';

interface LoginFlags {
  url?: string;
  slot?: string;
  clientId?: string;
  clientSecret?: string;
  clientSecretEnv?: string;
  clientSecretFile?: string;
  clientSecretStdin?: boolean;
  scopes?: string;
  open: boolean;
  callbackPort?: string;
  timeoutSec: string;
  allowHttpForLoopback?: boolean;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

export function registerMcpOauth(mcp: Command, rt: CliRuntime): void {
  const oauth = mcp.command('oauth').description('MCP OAuth accounts (slot mcp.oauth.<id> by default)');
  oauth
    .command('login')
    .description('log in to an HTTP MCP server with OAuth and store the account in the daemon')
    .argument('<id>', 'account id (a catalog entry id supplies the URL)')
    .option('--url <url>', 'the MCP server URL (the OAuth resource)')
    .option('--slot <slot>', 'the slot (default mcp.oauth.<id>)')
    .option('--client-id <id>', 'a pre-registered client (without it: dynamic registration)')
    .option('--client-secret <secret>', "the client's secret (visible in shell history)")
    .option('--client-secret-env <var>', "read the client's secret from this variable")
    .option('--client-secret-file <file>', "read the client's secret from a file")
    .option('--client-secret-stdin', "read the client's secret from standard input")
    .option('--scopes <a,b>', 'scopes to ask for')
    .option(
      '--no-open',
      'print {authorization_url, redirect_uri, slot_id} as JSON instead of opening a browser',
    )
    .option('--callback-port <port>', 'loopback callback port (default: any free port)')
    .option('--timeout-sec <s>', 'how long to wait for the browser', '600')
    .option('--allow-http-for-loopback', 'accept http:// for 127.0.0.1, localhost and ::1 (local tests)')
    .action(async (id: string, flags: LoginFlags) => {
      const status = await login(rt, id, flags);
      rt.emit(status, (s) => [`stored MCP OAuth account ${s.slot_id} (${s.summary})`]);
    });
  oauth
    .command('status')
    .description('redacted status of an MCP OAuth account slot')
    .argument('<id>')
    .option('--slot <slot>', 'the slot (default mcp.oauth.<id>)')
    .action(async (id: string, flags: { slot?: string }) => {
      const status = await rt.client().getSecret(flags.slot ?? `mcp.oauth.${id}`);
      rt.emit(status, (s) =>
        keyValues([
          ['slot', s.slot_id],
          ['mode', s.mode],
          ['summary', s.summary],
          ['details', s.details ? JSON.stringify(s.details) : undefined],
        ]),
      );
    });
  oauth
    .command('refresh')
    .description('forced refresh of an MCP OAuth account through the daemon (refresh_token grant)')
    .argument('<id>')
    .option('--slot <slot>', 'the slot (default mcp.oauth.<id>)')
    .action(async (id: string, flags: { slot?: string }) => {
      const status = await new AuthResource(rt.client()).refreshAccount(flags.slot ?? `mcp.oauth.${id}`);
      rt.emit(status, (s) => [`refreshed MCP OAuth account ${s.slot_id} (${s.summary})`]);
    });
  oauth
    .command('logout')
    .description('delete an MCP OAuth account slot')
    .argument('<id>')
    .option('--slot <slot>', 'the slot (default mcp.oauth.<id>)')
    .action(async (id: string, flags: { slot?: string }) => {
      const slot = flags.slot ?? `mcp.oauth.${id}`;
      const res = await rt.client().deleteSecret(slot);
      rt.emit(res, () => [`deleted ${slot}`]);
    });
}

async function login(rt: CliRuntime, id: string, flags: LoginFlags) {
  const slot = flags.slot ?? `mcp.oauth.${id}`;
  if (!slot.startsWith('mcp.')) throw new UsageError('--slot must start with `mcp.`');
  const resource = resourceUrl(id, flags);
  const scope = flags.scopes
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .join(' ');
  const prm = await discoverOAuthProtectedResourceMetadata(resource).catch(() => undefined);
  const asUrl = new URL(prm?.authorization_servers?.[0] ?? resource.origin);
  checkScheme(asUrl, flags);
  const metadata = await discoverAuthorizationServerMetadata(asUrl);
  if (!metadata) throw new UsageError(`no OAuth authorization server metadata found at ${asUrl.origin}`);
  const callback = await listen(flags.callbackPort ? Number(flags.callbackPort) : 0);
  try {
    const redirectUri = `http://127.0.0.1:${callback.port}/callback`;
    const secret = await clientSecret(rt, flags);
    let client: { client_id: string; client_secret?: string };
    if (flags.clientId) client = { client_id: flags.clientId, ...(secret ? { client_secret: secret } : {}) };
    else if (metadata.registration_endpoint)
      client = await registerClient(asUrl, {
        metadata,
        clientMetadata: {
          client_name: 'kheish-daemon',
          redirect_uris: [redirectUri],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'none',
          ...(scope ? { scope } : {}),
        },
      });
    else
      throw new UsageError(
        'authorization server does not advertise dynamic registration',
        'pass --client-id (and a client secret when the client needs one)',
      );
    const state = randomBytes(16).toString('base64url');
    const { authorizationUrl, codeVerifier } = await startAuthorization(asUrl, {
      metadata,
      clientInformation: client,
      redirectUrl: redirectUri,
      scope,
      state,
      resource,
    });
    if (!flags.open)
      rt.io.stdout(
        `${JSON.stringify({ authorization_url: authorizationUrl.toString(), redirect_uri: redirectUri, slot_id: slot })}\n`,
      );
    else {
      rt.note(`open this URL to log in: ${authorizationUrl}`);
      openBrowser(authorizationUrl.toString());
    }
    const code = await callback.code(state, Number(flags.timeoutSec) * 1000);
    const tokens = await exchangeAuthorization(asUrl, {
      metadata,
      clientInformation: client,
      authorizationCode: code,
      codeVerifier,
      redirectUri,
      resource,
    });
    const granted = tokens.scope?.split(' ').filter(Boolean) ?? scope?.split(' ') ?? [];
    return (await rt.client().request('POST', '/v1/runtime/auth/accounts/mcp-oauth', {
      body: {
        slot_id: slot,
        server_name: id,
        resource: resource.toString(),
        issuer: metadata.issuer,
        authorization_endpoint: metadata.authorization_endpoint,
        token_endpoint: metadata.token_endpoint,
        client_id: client.client_id,
        ...(client.client_secret ? { client_secret: client.client_secret } : {}),
        access_token: tokens.access_token,
        ...(tokens.refresh_token ? { refresh_token: tokens.refresh_token } : {}),
        ...(tokens.expires_in !== undefined ? { expires_at_ms: Date.now() + tokens.expires_in * 1000 } : {}),
        scopes: granted,
      },
    })) as { slot_id: string; summary: string };
  } finally {
    callback.close();
  }
}

function resourceUrl(id: string, flags: LoginFlags): URL {
  const raw = flags.url ?? catalogEntry(id)?.endpoint;
  if (!raw || !/^https?:/.test(raw)) throw new UsageError('give the MCP server URL with --url');
  const url = new URL(raw);
  checkScheme(url, flags);
  return url;
}

function checkScheme(url: URL, flags: LoginFlags): void {
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && flags.allowHttpForLoopback && LOOPBACK.has(url.hostname)) return;
  throw new UsageError(
    `MCP OAuth requires https resource URLs (got ${url.origin})`,
    'use https; --allow-http-for-loopback accepts http only for 127.0.0.1, localhost and ::1',
  );
}

async function clientSecret(rt: CliRuntime, flags: LoginFlags): Promise<string | undefined> {
  const given = [
    flags.clientSecret,
    flags.clientSecretEnv,
    flags.clientSecretFile,
    flags.clientSecretStdin,
  ].filter((x) => x !== undefined && x !== false);
  if (given.length > 1) throw new UsageError('give the client secret once');
  if (flags.clientSecret !== undefined) return flags.clientSecret;
  if (flags.clientSecretEnv !== undefined) {
    const v = process.env[flags.clientSecretEnv];
    if (!v) throw new UsageError(`environment variable ${flags.clientSecretEnv} is not set or empty`);
    return v;
  }
  if (flags.clientSecretFile !== undefined) return readFileSync(flags.clientSecretFile, 'utf8').trim();
  if (flags.clientSecretStdin) return (await rt.io.readStdin()).trim();
  return undefined;
}

/** The loopback callback: one `code` for the expected `state`, or a clear failure. */
async function listen(port: number) {
  let deliver: ((r: { code?: string; error?: string }) => void) | undefined;
  const arrived = new Promise<{ code?: string; error?: string; state?: string }>((res) => {
    deliver = res;
  });
  let expected = '';
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    const error = url.searchParams.get('error');
    const code = url.searchParams.get('code');
    if (url.searchParams.get('state') !== expected) {
      res
        .writeHead(400, { 'content-type': 'text/plain' })
        .end('callback state did not match; run the login again');
      deliver?.({ error: 'callback state did not match' });
    } else if (error || !code) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`login failed: ${error ?? 'no code'}`);
      deliver?.({ error: `the authorization server answered ${error ?? 'without a code'}` });
    } else {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('Logged in. You can close this window.');
      deliver?.({ code });
    }
  });
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(port, '127.0.0.1', () => res());
  });
  return {
    port: (server.address() as AddressInfo).port,
    async code(state: string, timeoutMs: number): Promise<string> {
      expected = state;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, rej) => {
        timer = setTimeout(
          () => rej(new UsageError('no browser callback arrived before --timeout-sec')),
          timeoutMs,
        );
      });
      try {
        const got = await Promise.race([arrived, timeout]);
        if (got.error) throw new UsageError(got.error);
        return got.code!;
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => server.close(),
  };
}

function openBrowser(url: string): void {
  const command =
    process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    spawn(command, [url], { stdio: 'ignore', detached: true })
      .on('error', () => undefined)
      .unref();
  } catch {
    // No browser here: the URL was printed.
  }
}
