// Loopback fixture servers for the web tool tests: real sockets, a route table, and a log of
// every request so tests can prove a refused target was never contacted.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ToolContext } from '../../src/tools/registry.ts';

export interface SeenRequest {
  path: string;
  host: string | undefined;
  local: string;
}

export type Route = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export interface Fixture {
  port: number;
  /** `127.0.0.1:<port>`, the form `allowPrivateTargetsForTests` takes. */
  socket: string;
  base: string;
  seen: SeenRequest[];
  close(): Promise<void>;
}

export async function startFixture(routes: Record<string, Route>, host = '127.0.0.1'): Promise<Fixture> {
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    seen.push({ path, host: req.headers.host, local: req.socket.localAddress ?? '' });
    const route = routes[path.split('?')[0]!];
    if (route) route(req, res);
    else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    socket: `${host}:${port}`,
    base: `http://${host}:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function text(body: string, type = 'text/plain; charset=utf-8', status = 200): Route {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': type });
    res.end(body);
  };
}

export function redirect(location: string, status = 302): Route {
  return (_req, res) => {
    res.writeHead(status, { location });
    res.end();
  };
}

export function ctx(signal = new AbortController().signal): ToolContext {
  return {
    run_id: 'run-test',
    session_id: 'ses-test',
    agent_id: 'agent-test',
    tool_call_id: 'call-test',
    workspace_root: null,
    signal,
  };
}
