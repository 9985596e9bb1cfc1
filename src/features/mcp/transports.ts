// The two MCP transports of a configured server, with their size bounds applied before any JSON is
// parsed: a stdio line longer than LIMITS.frameBytes closes the stream (the SDK's read buffer
// cap), and an HTTP response body (JSON or SSE) is cut off at the same size by a counting fetch.
import type { Readable } from 'node:stream';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { LIMITS } from './bounds.ts';
import type { ServerPlan } from './inventory.ts';

export interface OpenedTransport {
  transport: Transport;
  /** The last lines the server wrote on stderr (for connection errors), stdio only. */
  stderrTail(): string;
  pid(): number | null;
}

/** The `Authorization` value for each request, read fresh every time (scoped OAuth servers). */
export type Authorize = () => Promise<string>;

/** The SDK is imported with the first server: a daemon without MCP never loads it (lazy boot). */
export async function openTransport(plan: ServerPlan, authorize?: Authorize): Promise<OpenedTransport> {
  const c = plan.config;
  if (c.transport === 'stdio') {
    const { StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js');
    const env = c.inherit_env ? { ...stringEnv(process.env), ...plan.env } : plan.env;
    const transport = new StdioClientTransport({
      command: c.command!,
      args: c.args,
      env,
      cwd: c.cwd,
      stderr: 'pipe',
      maxBufferSize: LIMITS.frameBytes,
    });
    let tail = '';
    (transport.stderr as Readable | null)?.on('data', (chunk: Buffer) => {
      tail = (tail + chunk.toString('utf8')).slice(-2048);
    });
    return {
      transport,
      stderrTail: () => tail.trim().split('\n').slice(-3).join(' | '),
      pid: () => transport.pid,
    };
  }
  const { StreamableHTTPClientTransport } = await import(
    '@modelcontextprotocol/sdk/client/streamableHttp.js'
  );
  const transport = new StreamableHTTPClientTransport(new URL(c.url!), {
    requestInit: { headers: plan.headers },
    fetch: authorized(boundedFetch(LIMITS.frameBytes), authorize),
  });
  return { transport, stderrTail: () => '', pid: () => null };
}

/** Re-authorizes before every request: a deleted slot or an expired account stops the next call. */
function authorized(inner: typeof fetch, authorize: Authorize | undefined): typeof fetch {
  if (!authorize) return inner;
  return async (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set('authorization', await authorize());
    return inner(input, { ...init, headers });
  };
}

function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/** fetch whose response bodies error once they pass `max` bytes (JSON bodies and SSE streams alike). */
export function boundedFetch(max: number): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    if (!res.body) return res;
    const declared = Number(res.headers.get('content-length') ?? 0);
    if (declared > max) {
      await res.body.cancel().catch(() => undefined);
      throw new Error(`the MCP server's response is ${declared} bytes, over the ${max}-byte limit`);
    }
    let seen = 0;
    const counter = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctl) {
        seen += chunk.byteLength;
        // One SSE stream carries many messages: the cap is per response, as for a JSON body.
        if (seen > max) ctl.error(new Error(`the MCP server's response passed the ${max}-byte limit`));
        else ctl.enqueue(chunk);
      },
    });
    return new Response(res.body.pipeThrough(counter), {
      status: res.status,
      statusText: res.statusText,
      headers: res.headers,
    });
  };
}
