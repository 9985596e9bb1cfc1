// A local OTLP/HTTP receiver for tests: decodes the JSON encoding (OTEL_EXPORTER_OTLP_PROTOCOL=
// http/json) of POST /v1/traces into flat spans, and records any other request (hooks) with its
// headers so a test can compare trace ids.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  status: { code?: number; message?: string };
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
}

export interface Receiver {
  origin: string;
  port: number;
  spans: ReceivedSpan[];
  /** Requests on other paths (hook calls), with their headers. */
  others: Array<{ path: string; headers: IncomingHttpHeaders; body: string }>;
  exportRequests: number;
  /** Export requests in the protobuf encoding (counted, not decoded). */
  protobufRequests: number;
  close(): Promise<void>;
}

/** An OTLP AnyValue as a plain value. */
function plain(v: Record<string, unknown> | undefined): unknown {
  if (!v) return undefined;
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue;
  if ('arrayValue' in v)
    return ((v.arrayValue as { values?: Record<string, unknown>[] }).values ?? []).map(plain);
  return v;
}

const attrs = (list: Array<{ key: string; value: Record<string, unknown> }> = []) =>
  Object.fromEntries(list.map((a) => [a.key, plain(a.value)]));

export async function startReceiver(): Promise<Receiver> {
  const r: Receiver = {
    origin: '',
    port: 0,
    spans: [],
    others: [],
    exportRequests: 0,
    protobufRequests: 0,
    close: () => new Promise((done) => server.close(() => done())),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (req.url === '/v1/traces' && req.headers['content-type'] === 'application/x-protobuf') {
        r.exportRequests++;
        r.protobufRequests++;
        res.writeHead(200, { 'content-type': 'application/x-protobuf' });
        res.end();
        return;
      }
      if (req.url === '/v1/traces') {
        r.exportRequests++;
        const payload = JSON.parse(body) as {
          resourceSpans?: Array<{
            resource?: { attributes?: [] };
            scopeSpans?: Array<{ spans?: Array<Record<string, any>> }>;
          }>;
        };
        for (const rs of payload.resourceSpans ?? [])
          for (const ss of rs.scopeSpans ?? [])
            for (const s of ss.spans ?? [])
              r.spans.push({
                traceId: s.traceId,
                spanId: s.spanId,
                parentSpanId: s.parentSpanId ?? '',
                name: s.name,
                kind: s.kind,
                status: s.status ?? {},
                attributes: attrs(s.attributes),
                resource: attrs(rs.resource?.attributes),
              });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
        return;
      }
      r.others.push({ path: req.url ?? '', headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  r.port = (server.address() as AddressInfo).port;
  r.origin = `http://127.0.0.1:${r.port}`;
  return r;
}

/** Waits until `ok()` holds (spans arrive in batches), or fails with `what`. */
export async function until(ok: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}
