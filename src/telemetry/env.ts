// Whether traces are exported, read from the standard OpenTelemetry variables only. Tracing is
// off unless an exporter is asked for (docs/decisions.md #601): the specification's default
// exporter is `otlp`, but a daemon that starts sending spans to localhost:4318 because nothing
// said otherwise would surprise operators and cost a request per batch for nobody.

export type TracesExporter = 'otlp' | 'console';
export type OtlpProtocol = 'http/protobuf' | 'http/json';

export interface TracingSettings {
  exporter: TracesExporter;
  /** For `otlp` only. */
  protocol: OtlpProtocol;
  /** The batch span processor's OTEL_BSP_* settings (the SDK's defaults where unset). */
  batch: {
    scheduledDelayMillis?: number;
    exportTimeoutMillis?: number;
    maxQueueSize?: number;
    maxExportBatchSize?: number;
  };
}

export type TracingDecision =
  | { enabled: true; settings: TracingSettings; warnings: string[] }
  | { enabled: false; reason: string; warnings: string[] };

type Env = Record<string, string | undefined>;

const set = (v: string | undefined): v is string => v !== undefined && v.trim() !== '';

export function tracingFromEnv(env: Env): TracingDecision {
  const warnings: string[] = [];
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true')
    return { enabled: false, reason: 'OTEL_SDK_DISABLED=true', warnings };
  const endpoint = set(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) || set(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const named = set(env.OTEL_TRACES_EXPORTER)
    ? env.OTEL_TRACES_EXPORTER.split(',').map((s) => s.trim().toLowerCase())
    : null;
  let exporter: TracesExporter | null = null;
  if (named === null) {
    if (!endpoint)
      return { enabled: false, reason: 'no OTEL_TRACES_EXPORTER and no OTLP endpoint', warnings };
    exporter = 'otlp';
  } else if (named.includes('none')) {
    return { enabled: false, reason: 'OTEL_TRACES_EXPORTER=none', warnings };
  } else {
    for (const n of named) {
      if (n === 'otlp' || n === 'console') exporter ??= n;
      else warnings.push(`OTEL_TRACES_EXPORTER names an exporter this daemon does not have: ${n}`);
    }
    if (exporter === null)
      return { enabled: false, reason: 'OTEL_TRACES_EXPORTER names no supported exporter', warnings };
    if (named.filter((n) => n === 'otlp' || n === 'console').length > 1)
      warnings.push(`OTEL_TRACES_EXPORTER names several exporters; only \`${exporter}\` is used`);
  }
  const rawProtocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? '')
    .trim()
    .toLowerCase();
  let protocol: OtlpProtocol = 'http/protobuf';
  if (rawProtocol === 'http/json') protocol = 'http/json';
  else if (rawProtocol !== '' && rawProtocol !== 'http/protobuf')
    warnings.push(`OTLP protocol \`${rawProtocol}\` is not supported; traces are sent as http/protobuf`);
  const batch: TracingSettings['batch'] = {};
  for (const [name, key] of [
    ['OTEL_BSP_SCHEDULE_DELAY', 'scheduledDelayMillis'],
    ['OTEL_BSP_EXPORT_TIMEOUT', 'exportTimeoutMillis'],
    ['OTEL_BSP_MAX_QUEUE_SIZE', 'maxQueueSize'],
    ['OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 'maxExportBatchSize'],
  ] as const) {
    const raw = env[name];
    if (!set(raw)) continue;
    const n = Number(raw);
    if (Number.isInteger(n) && n >= 0) batch[key] = n;
    else warnings.push(`${name} is not a whole number: ${raw}`);
  }
  return { enabled: true, settings: { exporter, protocol, batch }, warnings };
}
