// Daemon status (GET /v1/status): health warnings, counters by domain, replicas.
import { Async, Badge, Empty, Json, PageHeader, Time, useLoad } from '../ui.tsx';
import { Table } from './table.tsx';

type Row = Record<string, any>;
const label = (k: string) => k.replaceAll('_', ' ');

export function StatusPage() {
  const state = useLoad((k) => k.runtime.status() as Promise<Row>, [], 5000);
  return (
    <section>
      <PageHeader title="Status">
        <button type="button" onClick={state.reload}>
          Refresh
        </button>
      </PageHeader>
      <Async state={state}>
        {(s) => {
          const warnings: Row[] = s.health?.warnings ?? [];
          const replicas: Row[] = s.replicas?.replicas ?? [];
          const groups = Object.entries(s).filter(
            ([k, v]) => v && typeof v === 'object' && !['health', 'replicas', 'capabilities'].includes(k),
          );
          return (
            <>
              <dl class="facts">
                <Fact name="status" value={<Badge value={String(s.status)} />} />
                <Fact name="ready" value={s.ready ? 'yes' : 'no'} />
                <Fact name="version" value={s.version} />
                <Fact name="up for" value={`${Math.round(Number(s.uptime_ms ?? 0) / 1000)} s`} />
              </dl>
              <h2>Health warnings ({warnings.length})</h2>
              {warnings.length === 0 ? (
                <Empty>No warnings.</Empty>
              ) : (
                <ul class="warnings">
                  {warnings.map((w) => (
                    <li key={`${w.code}:${w.message}`}>
                      <Badge value={String(w.severity ?? 'warning')} /> {w.message ?? w.code}
                    </li>
                  ))}
                </ul>
              )}
              <h2>Replicas</h2>
              <Table
                caption="Replicas"
                rows={replicas}
                rowKey={(r) => r.replica_id}
                columns={[
                  { label: 'Replica', cell: (r) => <code>{r.replica_id}</code> },
                  { label: 'Host', cell: (r) => `${r.host ?? '—'} (pid ${r.pid ?? '—'})` },
                  { label: 'URL', cell: (r) => r.url ?? '—' },
                  { label: 'Started', cell: (r) => <Time ms={r.started_at_ms} /> },
                  { label: 'Heartbeat', cell: (r) => <Time ms={r.heartbeat_at_ms} /> },
                ]}
              />
              <h2>Counters</h2>
              <div class="cards">
                {groups.map(([k, v]) => (
                  <div key={k} class="card">
                    <h3>{label(k)}</h3>
                    <dl class="counters">
                      {Object.entries(v as Row)
                        .filter(([, x]) => x === null || typeof x !== 'object')
                        .map(([name, x]) => (
                          <Fact key={name} name={name} value={String(x)} />
                        ))}
                    </dl>
                    {Object.values(v as Row).some((x) => x && typeof x === 'object') && (
                      <details>
                        <summary>more</summary>
                        <Json value={v} />
                      </details>
                    )}
                  </div>
                ))}
              </div>
            </>
          );
        }}
      </Async>
    </section>
  );
}

function Fact(props: { name: string; value: unknown }) {
  return (
    <div>
      <dt>{label(props.name)}</dt>
      <dd>{props.value as string}</dd>
    </div>
  );
}
