// The raw HTTP exchange of a provider call, for debug capture. Every AI SDK provider is built with
// `wireFetch`: outside a capture it is the global fetch and nothing more; inside one (a recorder
// set with `withWireCapture` around a driver call) it hands the recorder the request as sent and
// the response body as it streams past, without changing what the SDK reads.

import { AsyncLocalStorage } from 'node:async_hooks';

export interface WireRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | null;
}

export interface WireResponse {
  status: number;
  headers: Record<string, string>;
}

/** One provider call's recorder; its methods must not throw. */
export interface WireRecorder {
  /** A request is about to be sent; returns the exchange's sink for the response. */
  request(req: WireRequest): WireExchange;
}

export interface WireExchange {
  response(res: WireResponse): void;
  chunk(bytes: Uint8Array): void;
  /** The request failed before a response (network error, abort). */
  failed(err: unknown): void;
}

const current = new AsyncLocalStorage<WireRecorder>();

/** Runs `fn` (a driver call) with `recorder` receiving every HTTP exchange it makes. */
export function withWireCapture<T>(recorder: WireRecorder, fn: () => Promise<T>): Promise<T> {
  return current.run(recorder, fn);
}

const headersOf = (h: ConstructorParameters<typeof Headers>[0] | undefined): Record<string, string> =>
  Object.fromEntries(new Headers(h ?? {}).entries());

/** The fetch every provider is built with. */
export const wireFetch: typeof fetch = (input, init) => {
  const recorder = current.getStore();
  if (!recorder) return fetch(input, init);
  return capturedFetch(recorder, input, init);
};

async function capturedFetch(
  recorder: WireRecorder,
  input: Parameters<typeof fetch>[0],
  init: RequestInit | undefined,
): Promise<Response> {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
  const body = typeof init?.body === 'string' ? init.body : init?.body ? '[non-text body]' : null;
  const exchange = recorder.request({
    method,
    url,
    headers: headersOf(init?.headers ?? (input instanceof Request ? input.headers : undefined)),
    body,
  });
  let res: Response;
  try {
    res = await fetch(input, init);
  } catch (err) {
    exchange.failed(err);
    throw err;
  }
  exchange.response({ status: res.status, headers: headersOf(res.headers) });
  if (!res.body) return res;
  // The SDK reads this copy of the body; each chunk is also handed to the exchange on its way.
  const tap = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      exchange.chunk(chunk);
      controller.enqueue(chunk);
    },
  });
  return new Response(res.body.pipeThrough(tap), {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
  });
}
