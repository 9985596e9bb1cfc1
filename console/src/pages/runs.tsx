// Runs: a filterable list, and one run's timeline, outputs, usage and cost, external-action audit
// and debug artifacts.
import { useState } from 'preact/hooks';
import type { RunView } from '../../../src/sdk/index.ts';
import { href } from '../router.ts';
import {
  Async,
  Badge,
  CommitInput,
  Empty,
  ErrorNote,
  items,
  Json,
  Loading,
  PageHeader,
  Time,
  useApp,
  useLoad,
} from '../ui.tsx';
import { Table } from './table.tsx';

type Row = Record<string, any>;
const STATUSES = [
  '',
  'queued',
  'running',
  'waiting_for_approval',
  'waiting_for_user_input',
  'completed',
  'failed',
  'cancelled',
  'interrupted',
];

export function RunsPage(props: { args: string[] }) {
  return props.args[0] ? <RunDetail runId={props.args[0]} /> : <RunList />;
}

function RunList() {
  const [session, setSession] = useState('');
  const [status, setStatus] = useState('');
  const state = useLoad(
    (k) => k.runs.list({ session_id: session || undefined, limit: 200, order: 'desc' }),
    [session],
    5000,
  );
  return (
    <section>
      <PageHeader title="Runs" />
      <form class="filters" aria-label="Filter runs" onSubmit={(e) => e.preventDefault()}>
        <span>
          <label for="runs-session">Session</label>{' '}
          <CommitInput
            id="runs-session"
            value={session}
            onCommit={(v) => setSession(v.trim())}
            placeholder="any"
          />
        </span>
        <label>
          Status{' '}
          <select value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s ? s.replaceAll('_', ' ') : 'any'}
              </option>
            ))}
          </select>
        </label>
      </form>
      <Async state={state}>
        {(list) => (
          <Table
            caption="Runs"
            rows={items<RunView>(list).filter((r) => !status || r.status === status)}
            rowKey={(r) => r.run_id}
            columns={[
              { label: 'Run', cell: (r) => <a href={href('runs', r.run_id)}>{r.run_id}</a> },
              { label: 'Session', cell: (r) => <a href={href('chat', r.session_id)}>{r.session_id}</a> },
              { label: 'Status', cell: (r) => <Badge value={r.status} /> },
              {
                label: 'Input',
                cell: (r) => <span class="clip">{String((r as Row).request?.text_preview ?? '')}</span>,
              },
              { label: 'Submitted', cell: (r) => <Time ms={r.submitted_at_ms as number} /> },
            ]}
          />
        )}
      </Async>
    </section>
  );
}

function RunDetail(props: { runId: string }) {
  const state = useLoad(
    async (k) => {
      const [run, events] = await Promise.all([k.runs.get(props.runId), k.runs.events(props.runId)]);
      const external = await k.runs.externalActions(props.runId).catch((e: unknown) => ({ error: e }));
      const debug = await k.runs.debug.get(props.runId).catch((e: unknown) => ({ error: e }));
      return { run: run as Row, events: events as Row[], external, debug: debug as Row };
    },
    [props.runId],
    5000,
  );
  return (
    <section>
      <PageHeader title={`Run ${props.runId}`}>
        <a href={href('runs')}>All runs</a>
      </PageHeader>
      <Async state={state}>
        {({ run, events, external, debug }) => (
          <>
            <dl class="facts">
              <div>
                <dt>status</dt>
                <dd>
                  <Badge value={run.status} />
                </dd>
              </div>
              <div>
                <dt>session</dt>
                <dd>
                  <a href={href('chat', run.session_id)}>{run.session_id}</a>
                </dd>
              </div>
              <div>
                <dt>route</dt>
                <dd>
                  {run.request?.provider ?? '—'} / {run.request?.model ?? '—'}
                </dd>
              </div>
              <div>
                <dt>submitted</dt>
                <dd>
                  <Time ms={run.submitted_at_ms} />
                </dd>
              </div>
              <div>
                <dt>finished</dt>
                <dd>
                  <Time ms={run.finished_at_ms} />
                </dd>
              </div>
              <div>
                <dt>tokens</dt>
                <dd>{run.usage?.total_tokens ?? 0}</dd>
              </div>
              <div>
                <dt>cost</dt>
                <dd>${Number(run.usage?.cost_usd ?? 0).toFixed(4)}</dd>
              </div>
            </dl>
            <h2>Outputs</h2>
            {(run.outputs ?? []).length === 0 && <Empty>No output.</Empty>}
            {(run.outputs ?? []).map((o: Row, i: number) => (
              <div key={i} class="msg msg-assistant">
                {String(o.content ?? '')}
              </div>
            ))}
            <h2>Timeline</h2>
            <ol class="events">
              {events.map((e, i) => (
                <li key={i}>
                  <Time ms={e.timestamp_ms} />{' '}
                  <strong>{e.event?.type === 'trace' ? e.event.trace?.kind : e.event?.type}</strong>
                  <details>
                    <summary>details</summary>
                    <Json value={e.event} />
                  </details>
                </li>
              ))}
            </ol>
            <h2>External actions</h2>
            {'error' in (external as Row) ? (
              <ErrorNote error={(external as Row).error} />
            ) : (
              <Json value={external} />
            )}
            <h2>Debug artifacts</h2>
            {'error' in debug ? (
              <ErrorNote error={debug.error} />
            ) : (
              <DebugArtifacts runId={props.runId} debug={debug} />
            )}
          </>
        )}
      </Async>
    </section>
  );
}

function DebugArtifacts(props: { runId: string; debug: Row }) {
  const { client } = useApp();
  const [open, setOpen] = useState<{ id: string; text?: string; error?: unknown }>();
  const artifacts: Row[] = props.debug.artifacts ?? [];
  if (artifacts.length === 0)
    return <Empty>No debug capture for this run (debug level {String(props.debug.level ?? 'off')}).</Empty>;
  const show = async (id: string) => {
    setOpen({ id });
    try {
      setOpen({ id, text: await client.runs.debug.artifact(props.runId, id) });
    } catch (error) {
      setOpen({ id, error });
    }
  };
  return (
    <>
      <Table
        caption="Debug artifacts"
        rows={artifacts}
        rowKey={(r) => r.artifact_id}
        columns={[
          { label: 'Artifact', cell: (r) => <code>{r.artifact_id}</code> },
          { label: 'Format', cell: (r) => r.format },
          { label: 'Size', cell: (r) => `${r.plaintext_bytes} bytes${r.truncated ? ' (truncated)' : ''}` },
          { label: 'Updated', cell: (r) => <Time ms={r.updated_at_ms} /> },
          {
            label: 'Open',
            cell: (r) => (
              <button type="button" onClick={() => show(r.artifact_id)} aria-label={`Show ${r.artifact_id}`}>
                Show
              </button>
            ),
          },
        ]}
      />
      {open && (
        <section aria-label={`Artifact ${open.id}`}>
          <h3>{open.id}</h3>
          {open.error !== undefined ? (
            <ErrorNote error={open.error} />
          ) : open.text === undefined ? (
            <Loading />
          ) : (
            <pre class="json">{open.text}</pre>
          )}
        </section>
      )}
    </>
  );
}
