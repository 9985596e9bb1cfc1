// Public surface of the SDK: import from here, not from the individual files.
export {
  DaemonClient,
  type DaemonClientOptions,
  DEFAULT_BASE_URL,
  DEFAULT_STREAM_IDLE_TIMEOUT_MS,
  DEFAULT_TIMEOUT_MS,
  type QueryValue,
  type RequestOptions,
  type SseStream,
  type StreamCallOptions,
} from './client.ts';
export {
  DaemonProblemError,
  DaemonSchemaError,
  DaemonTimeoutError,
  DaemonUnreachableError,
  fallbackCode,
  type ProblemDocument,
  problemFromResponse,
  SseFrameTooLargeError,
} from './errors.ts';
export {
  MAX_SSE_FRAME_BYTES,
  parseSseStream,
  SseParser,
  type SseParserOptions,
  type StreamEventsOptions,
  streamEvents,
} from './sse.ts';
export * from './types.ts';
