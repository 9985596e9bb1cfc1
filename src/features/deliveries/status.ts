// The `delivery` section of GET /v1/status and its health warnings (api-collab §8): historical
// `dead_lettered`, actionable `unresolved_dead_lettered` (drives the warning), attempts whose
// outcome is unknown (`needs_operator`), and `delivery_status_unavailable` when counting fails.
import type { DeliveriesService } from './service.ts';

export async function deliveryStatus(service: DeliveriesService): Promise<Record<string, unknown>> {
  try {
    const m = await service.metrics();
    return {
      pending: m.pending,
      retrying: m.retrying,
      in_flight: m.in_flight,
      delivered: m.delivered,
      dead_lettered: m.dead_lettered,
      unresolved_dead_lettered: m.unresolved_dead_lettered,
      needs_operator: m.needs_operator,
      worker_lag_ms: m.worker_lag_ms,
      status_error_count: service.statusErrorCount,
      status_error: service.lastStatusError,
    };
  } catch (err) {
    service.statusErrorCount++;
    service.lastStatusError = `delivery counts unavailable: ${(err as Error).message}`;
    return { status_error_count: service.statusErrorCount, status_error: service.lastStatusError };
  }
}

export async function deliveryWarnings(service: DeliveriesService) {
  let c: Awaited<ReturnType<DeliveriesService['counts']>>;
  try {
    c = await service.counts();
  } catch (err) {
    return [
      {
        severity: 'warning' as const,
        code: 'delivery_status_unavailable',
        message: `the delivery queue could not be counted: ${(err as Error).message}`,
      },
    ];
  }
  const out = [];
  if (c.unresolved_dead_lettered > 0)
    out.push({
      severity: 'warning' as const,
      code: 'delivery_dead_lettered',
      message: `${c.unresolved_dead_lettered} dead-lettered deliveries are neither replayed nor resolved`,
      action: 'kheish-daemon deliveries dead-letter; then replay <id> or resolve <id> --reason <text>',
    });
  if (c.needs_operator > 0)
    out.push({
      severity: 'warning' as const,
      code: 'delivery_outcome_unknown',
      message: `${c.needs_operator} deliveries were cut off mid-attempt to targets that cannot deduplicate; they are not re-sent without an operator`,
      action: 'check the target, then replay (send again) or resolve (it arrived) each one',
    });
  return out;
}
