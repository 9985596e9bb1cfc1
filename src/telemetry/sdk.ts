// The OpenTelemetry SDK behind the facade, loaded only when tracing is on (./tracing.ts). The
// exporter reads its own OTEL_EXPORTER_OTLP_* variables (endpoint, headers, timeout); the
// resource takes OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES over our defaults.
import {
  type Context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  type IdGenerator,
  RandomIdGenerator,
  SimpleSpanProcessor,
  type SpanExporter,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { DAEMON_VERSION } from '../version.ts';
import type { TracingSettings } from './env.ts';
import { formatTraceparent, type SpanRef } from './trace-context.ts';
import type { Attrs, SpanHandle, SpanSpec, TracingRuntime } from './tracing.ts';

const KINDS = {
  internal: SpanKind.INTERNAL,
  client: SpanKind.CLIENT,
  server: SpanKind.SERVER,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
} as const;

/**
 * Random ids, except while `force` holds (around one startSpan call): a run's root span is exported
 * when the run ends, under the ids its children (maybe on another replica) already used.
 * startSpan is synchronous, so nothing can come between `force` and the generation.
 */
class RunIds implements IdGenerator {
  private readonly random = new RandomIdGenerator();
  private forced: { traceId: string; spanId: string } | null = null;
  force(ids: { traceId: string; spanId: string } | null) {
    this.forced = ids;
  }
  generateTraceId = (): string => this.forced?.traceId ?? this.random.generateTraceId();
  generateSpanId = (): string => this.forced?.spanId ?? this.random.generateSpanId();
}

export interface RuntimeOptions {
  /** Tests: spans go here, one by one, instead of the configured exporter. */
  exporter?: SpanExporter;
}

export async function createRuntime(
  settings: TracingSettings,
  opts: RuntimeOptions = {},
): Promise<TracingRuntime> {
  const exporter = opts.exporter ?? (await exporterFor(settings));
  const ids = new RunIds();
  const resource = resourceFromAttributes({
    'service.name': 'kheish-daemon',
    'service.version': DAEMON_VERSION,
  }).merge(detectResources({ detectors: [envDetector] }));
  const processor = opts.exporter
    ? new SimpleSpanProcessor({ exporter })
    : new BatchSpanProcessor({ exporter, ...settings.batch });
  const provider = new TracerProvider({ resource, idGenerator: ids, spanProcessors: [processor] });
  const tracer = provider.getTracer('kheish-daemon', DAEMON_VERSION);
  // Our own context manager, not the global one: libraries in the process keep theirs.
  const contexts = new AsyncLocalStorageContextManager().enable();

  const open = (spec: SpanSpec): Span => {
    const parent: Context = spec.parent ? remote(spec.parent) : contexts.active();
    ids.force(spec.ids ?? null);
    try {
      return tracer.startSpan(
        spec.name,
        {
          kind: KINDS[spec.kind ?? 'internal'],
          attributes: clean(spec.attributes),
          ...(spec.startTimeMs !== undefined ? { startTime: spec.startTimeMs } : {}),
          // A root span with forced ids has no parent to inherit a trace id from.
          ...(spec.ids && !spec.parent ? { root: true } : {}),
        },
        parent,
      );
    } finally {
      ids.force(null);
    }
  };
  const handle = (span: Span): SpanHandle => ({
    set: (attrs) => span.setAttributes(clean(attrs)),
    fail: (type, message) => {
      span.setAttribute('error.type', type);
      span.setStatus({ code: SpanStatusCode.ERROR, ...(message ? { message } : {}) });
    },
    end: (at) => span.end(at),
    run: (fn) => contexts.with(trace.setSpan(contexts.active(), span), fn),
  });

  return {
    settings,
    start: (spec) => handle(open(spec)),
    async withSpan(spec, fn) {
      const span = open(spec);
      const h = handle(span);
      try {
        return await contexts.with(trace.setSpan(contexts.active(), span), () => fn(h));
      } catch (err) {
        h.fail((err as Error)?.name ?? 'Error', (err as Error)?.message);
        throw err;
      } finally {
        span.end();
      }
    },
    withParent: (parent, fn) => contexts.with(remote(parent), fn),
    traceparent() {
      const ctx = trace.getSpanContext(contexts.active());
      if (!ctx || !trace.isSpanContextValid(ctx)) return null;
      return formatTraceparent({
        traceId: ctx.traceId,
        spanId: ctx.spanId,
        sampled: (ctx.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED,
      });
    },
    flush: () => provider.forceFlush(),
    async shutdown() {
      await provider.shutdown();
      contexts.disable();
    },
  };
}

function remote(ref: SpanRef): Context {
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: ref.traceId,
    spanId: ref.spanId,
    traceFlags: ref.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
  });
}

const clean = (attrs: Attrs | undefined) =>
  Object.fromEntries(Object.entries(attrs ?? {}).filter(([, v]) => v !== undefined)) as Record<
    string,
    string | number | boolean | string[]
  >;

async function exporterFor(settings: TracingSettings): Promise<SpanExporter> {
  if (settings.exporter === 'console') return new ConsoleSpanExporter();
  if (settings.protocol === 'http/json') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    return new OTLPTraceExporter();
  }
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
  return new OTLPTraceExporter();
}
