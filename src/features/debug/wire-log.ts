// One model call's HTTP exchanges as debug capture keeps them: the request (method, URL, headers,
// the JSON body parsed so redaction sees its fields) as soon as it is sent, and the response's
// status, headers and body (server-sent events split into one line each) once the call is over.
// A body is collected up to twice the per-artifact budget; the rest is only counted.
import type {
  WireExchange,
  WireRecorder,
  WireRequest,
  WireResponse,
} from '../../models/drivers/wire-capture.ts';

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

interface Exchange {
  response: WireResponse | null;
  chunks: Buffer[];
  kept: number;
  total: number;
  error: string | null;
}

export class WireLog implements WireRecorder {
  private readonly limit: number;
  private readonly onRequest: (value: unknown) => void;
  private readonly exchanges: Exchange[] = [];

  constructor(maxArtifactBytes: number, onRequest: (value: unknown) => void) {
    this.limit = maxArtifactBytes * 2;
    this.onRequest = onRequest;
  }

  request(req: WireRequest): WireExchange {
    this.onRequest({
      method: req.method,
      url: req.url,
      headers: req.headers,
      body: req.body === null ? null : parseJson(req.body),
    });
    const ex: Exchange = { response: null, chunks: [], kept: 0, total: 0, error: null };
    this.exchanges.push(ex);
    const limit = this.limit;
    return {
      response(res) {
        ex.response = res;
      },
      chunk(bytes) {
        ex.total += bytes.length;
        if (ex.kept >= limit) return;
        const part = Buffer.from(bytes.subarray(0, limit - ex.kept));
        ex.chunks.push(part);
        ex.kept += part.length;
      },
      failed(err) {
        ex.error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      },
    };
  }

  /** Each exchange's response as JSON lines, with the body size when it was not all kept. */
  finish(): Array<{ lines: unknown[]; originalBytes?: number }> {
    return this.exchanges.map((ex) => {
      const lines: unknown[] = [];
      if (ex.response)
        lines.push({ type: 'response', status: ex.response.status, headers: ex.response.headers });
      const text = Buffer.concat(ex.chunks).toString('utf8');
      const contentType = ex.response?.headers['content-type'] ?? '';
      if (contentType.includes('text/event-stream')) lines.push(...sseEvents(text));
      else if (text !== '') lines.push({ type: 'body', body: parseJson(text) });
      if (ex.error) lines.push({ type: 'error', message: ex.error });
      if (ex.total > ex.kept) lines.push({ type: 'cut', kept_bytes: ex.kept, body_bytes: ex.total });
      return ex.total > ex.kept ? { lines, originalBytes: ex.total } : { lines };
    });
  }
}

/** Server-sent events: one `{type: "event", event?, data}` per event, `data` parsed when JSON. */
function sseEvents(text: string): unknown[] {
  const out: unknown[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    if (block.trim() === '') continue;
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (data.length === 0 && event === undefined) continue;
    out.push({ type: 'event', ...(event !== undefined ? { event } : {}), data: parseJson(data.join('\n')) });
  }
  return out;
}
