// --metrics-bind: a second listener that serves only GET /metrics, without a token, so a
// Prometheus server on a private network can scrape without holding a control-plane token.
// It listens before any run is recovered: a taken port stops the start before work begins.
import { createServer, type Server } from 'node:http';
import { ConfigError } from '../../config/serve-options.ts';
import type { MetricsService } from './service.ts';

export async function listenMetrics(
  metrics: MetricsService,
  bind: { host: string; port: number },
  onError: (err: unknown) => void,
): Promise<{ server: Server; address: string }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics is served here\n');
      return;
    }
    metrics.scrape().then(
      ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(body),
      (err) => {
        onError(err);
        res.writeHead(503, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
      },
    );
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(bind.port, bind.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const where = `${bind.host}:${bind.port}`;
    const why =
      code === 'EADDRINUSE'
        ? 'the address is already in use'
        : code === 'EACCES'
          ? 'permission denied (ports below 1024 need privileges)'
          : code === 'EADDRNOTAVAIL'
            ? 'this machine has no such address'
            : (err as Error).message;
    throw new ConfigError(
      `--metrics-bind: cannot listen on ${where}: ${why}; pass --metrics-bind <host>:<free port> (or set KHEISH_METRICS_BIND), or drop it and scrape /metrics on the API address`,
    );
  }
  const a = server.address();
  const address =
    a && typeof a === 'object'
      ? `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`
      : '';
  return { server, address };
}
