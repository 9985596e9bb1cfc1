// Tasks (per session) and schedules (create, pause/resume, trigger now, cancel).
import { useState } from 'preact/hooks';
import type { ScheduleCadence, ScheduleView, SessionSummary } from '../../../src/sdk/index.ts';
import { describe } from '../api.ts';
import { type FieldErrors, fieldErrors } from '../field-errors.ts';
import { href } from '../router.ts';
import {
  Async,
  Badge,
  describedBy,
  Field,
  FormOutcome,
  items,
  PageHeader,
  SessionOptions,
  Time,
  useApp,
  useLoad,
} from '../ui.tsx';
import { Table } from './table.tsx';

type Row = Record<string, any>;

export function SchedulesPage() {
  const state = useLoad(
    (k) => k.schedules.list({ limit: 200 }).then((r) => items<ScheduleView>(r)),
    [],
    5000,
  );
  return (
    <section>
      <PageHeader title="Schedules" />
      <ScheduleForm onCreated={state.reload} />
      <h2>All schedules</h2>
      <Async state={state}>
        {(rows) => (
          <Table
            caption="Schedules"
            rows={rows}
            rowKey={(r) => r.schedule_id}
            columns={[
              { label: 'Name', cell: (r) => r.name },
              {
                label: 'Session',
                cell: (r) => <a href={href('chat', r.target_session_id)}>{r.target_session_id}</a>,
              },
              { label: 'Cadence', cell: (r) => cadenceText(r.cadence) },
              { label: 'Status', cell: (r) => <Badge value={r.status} /> },
              { label: 'Next', cell: (r) => <Time ms={r.next_fire_at_ms} /> },
              { label: 'Runs', cell: (r) => r.execution_count },
              { label: 'Actions', cell: (r) => <ScheduleActions schedule={r} onDone={state.reload} /> },
            ]}
          />
        )}
      </Async>
    </section>
  );
}

function cadenceText(c: ScheduleCadence): string {
  if (c.type === 'cron') return `cron ${c.expression}${c.timezone ? ` (${c.timezone})` : ''}`;
  if (c.type === 'interval') return `every ${c.every_seconds} s`;
  return `once at ${new Date(c.fire_at_ms).toLocaleString()}`;
}

function ScheduleActions(props: { schedule: ScheduleView; onDone(): void }) {
  const { client } = useApp();
  const [error, setError] = useState<string>();
  const s = props.schedule;
  const act = (name: 'pause' | 'resume' | 'trigger' | 'cancel') => async () => {
    setError(undefined);
    try {
      await client.schedules[name](s.schedule_id);
      props.onDone();
    } catch (err) {
      setError(describe(err));
    }
  };
  const live = s.status !== 'canceled' && s.status !== 'completed';
  return (
    <div class="row-actions">
      {s.status === 'active' && (
        <button type="button" onClick={act('trigger')} aria-label={`Run now: ${s.name}`}>
          Run now
        </button>
      )}
      {s.status === 'active' && (
        <button type="button" onClick={act('pause')} aria-label={`Pause: ${s.name}`}>
          Pause
        </button>
      )}
      {s.status === 'paused' && (
        <button type="button" onClick={act('resume')} aria-label={`Resume: ${s.name}`}>
          Resume
        </button>
      )}
      {live && (
        <button type="button" onClick={act('cancel')} aria-label={`Cancel: ${s.name}`}>
          Cancel
        </button>
      )}
      {error && <span class="field-error">{error}</span>}
    </div>
  );
}

function ScheduleForm(props: { onCreated(): void }) {
  const { client } = useApp();
  const sessions = useLoad((k) => k.sessions.list({ limit: 200 }).then((r) => items<SessionSummary>(r)));
  const [f, setF] = useState({
    name: '',
    session: '',
    kind: 'cron',
    expression: '0 0 8 * * *',
    every: '3600',
    message: '',
  });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [done, setDone] = useState<string>();
  const set = (k: keyof typeof f) => (e: Event) =>
    setF({ ...f, [k]: (e.currentTarget as HTMLInputElement).value });
  const submit = async (e: Event) => {
    e.preventDefault();
    setErrors({});
    setDone(undefined);
    const cadence: ScheduleCadence =
      f.kind === 'cron'
        ? { type: 'cron', expression: f.expression }
        : { type: 'interval', every_seconds: Number(f.every) };
    try {
      const s = await client.schedules.create({
        name: f.name,
        target_session_id: f.session,
        cadence,
        request: { content: f.message },
      });
      setDone(`Created ${s.name}`);
      props.onCreated();
    } catch (err) {
      setErrors(
        fieldErrors(err, {
          expression: ['cron', 'expression'],
          every: ['every_seconds', 'interval'],
          session: ['session'],
          name: ['name'],
          message: ['request', 'content'],
        }),
      );
    }
  };
  return (
    <form class="card form" onSubmit={submit} aria-label="New schedule">
      <h2>New schedule</h2>
      <Field id="schedule-name" label="Name" error={errors.name}>
        <input {...describedBy('schedule-name', errors.name)} value={f.name} onInput={set('name')} />
      </Field>
      <Field id="schedule-session" label="Session" error={errors.session}>
        <select
          {...describedBy('schedule-session', errors.session)}
          value={f.session}
          onChange={set('session')}
        >
          <SessionOptions sessions={sessions.data} />
        </select>
      </Field>
      <Field id="schedule-kind" label="Cadence">
        <select id="schedule-kind" value={f.kind} onChange={set('kind')}>
          <option value="cron">cron expression</option>
          <option value="interval">every N seconds</option>
        </select>
      </Field>
      {f.kind === 'cron' ? (
        <Field
          id="schedule-expression"
          label="Cron expression"
          error={errors.expression}
          hint="second minute hour day month weekday, e.g. 0 0 8 * * * for 08:00 daily"
        >
          <input
            {...describedBy('schedule-expression', errors.expression)}
            value={f.expression}
            onInput={set('expression')}
          />
        </Field>
      ) : (
        <Field id="schedule-every" label="Every (seconds)" error={errors.every}>
          <input
            {...describedBy('schedule-every', errors.every)}
            type="number"
            min={1}
            value={f.every}
            onInput={set('every')}
          />
        </Field>
      )}
      <Field id="schedule-message" label="Message sent at each fire" error={errors.message}>
        <textarea
          {...describedBy('schedule-message', errors.message)}
          rows={2}
          value={f.message}
          onInput={set('message')}
        />
      </Field>
      <FormOutcome error={errors.form} done={done} />
      <button type="submit" class="primary">
        Create schedule
      </button>
    </form>
  );
}

export function TasksPage(props: { args: string[] }) {
  const sessions = useLoad((k) => k.sessions.list({ limit: 200 }).then((r) => items<SessionSummary>(r)));
  const session = props.args[0] ?? '';
  const tasks = useLoad(
    (k) => (session ? k.tasks.list(session).then((r) => items<Row>(r)) : Promise.resolve([])),
    [session],
    5000,
  );
  return (
    <section>
      <PageHeader title="Tasks" />
      <label class="filters">
        Session{' '}
        <select value={session} onChange={(e) => (location.hash = href('tasks', e.currentTarget.value))}>
          <SessionOptions sessions={sessions.data} />
        </select>
      </label>
      {session && (
        <Async state={tasks}>
          {(rows) => (
            <Table
              caption="Tasks"
              rows={rows}
              rowKey={(r) => r.task_id}
              columns={[
                { label: 'Task', cell: (r) => <code>{r.task_id}</code> },
                { label: 'Kind', cell: (r) => String(r.kind ?? '—') },
                { label: 'Status', cell: (r) => <Badge value={String(r.status)} /> },
                {
                  label: 'Description',
                  cell: (r) => <span class="clip">{String(r.description ?? r.command ?? '')}</span>,
                },
                { label: 'Started', cell: (r) => <Time ms={r.created_at_ms ?? r.started_at_ms} /> },
              ]}
            />
          )}
        </Async>
      )}
    </section>
  );
}
