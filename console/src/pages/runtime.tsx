// Runtime: routes with readiness, permission mode, tool limits, MCP servers, hooks and their dead
// letters, revisions with rollback, and write-only secret slots.
import { useState } from 'preact/hooks';
import type { AuthSlotStatus, DebugLevel, PermissionMode, RuntimeRevision } from '../../../src/sdk/index.ts';
import { describe } from '../api.ts';
import {
  Async,
  Badge,
  describedBy,
  Empty,
  Field,
  Json,
  PageHeader,
  SecretValueField,
  Time,
  useApp,
  useLoad,
} from '../ui.tsx';
import { Table } from './table.tsx';

type Row = Record<string, any>;
const MODES: PermissionMode[] = ['default', 'acceptEdits', 'bypassPermissions', 'plan', 'dontAsk'];
const DEBUG_LEVELS: DebugLevel[] = ['off', 'on', 'redacted', 'full'];

/** `tick` changes after any change made on the page: every section loads again (a change is a revision). */
interface Section {
  tick: number;
  changed(): void;
}

export function RuntimePage() {
  const [tick, setTick] = useState(0);
  const s: Section = { tick, changed: () => setTick((t) => t + 1) };
  return (
    <section>
      <PageHeader title="Runtime" />
      <Routes {...s} />
      <Permissions {...s} />
      <Mcp {...s} />
      <Hooks {...s} />
      <Revisions {...s} />
      <Secrets {...s} />
    </section>
  );
}

function Routes(props: Section) {
  const state = useLoad((k) => k.runtime.routes() as Promise<Row[]>, [props.tick], 10_000);
  return (
    <>
      <h2>Routes</h2>
      <Async state={state}>
        {(rows) => (
          <Table
            caption="Routes"
            rows={rows}
            rowKey={(r) => r.route_id}
            columns={[
              {
                label: 'Route',
                cell: (r) => (
                  <>
                    <code>{r.route_id}</code>
                    {r.is_default ? ' (default)' : ''}
                  </>
                ),
              },
              { label: 'Provider', cell: (r) => String(r.provider ?? r.driver ?? '—') },
              { label: 'Model', cell: (r) => String(r.model ?? r.default_model ?? '—') },
              { label: 'Readiness', cell: (r) => <Badge value={String(r.readiness ?? 'unknown')} /> },
              { label: 'Detail', cell: (r) => String(r.readiness_detail ?? r.reason ?? '') },
            ]}
          />
        )}
      </Async>
    </>
  );
}

function Permissions(props: Section) {
  const { client } = useApp();
  const state = useLoad(
    async (k) => ({ runtime: (await k.runtime.get()) as Row, limits: await k.runtime.toolLimits() }),
    [props.tick],
    10_000,
  );
  const [error, setError] = useState<string>();
  const [debugError, setDebugError] = useState<string>();
  const setMode = async (mode: PermissionMode) => {
    setError(undefined);
    try {
      await client.runtime.setPermissionMode(mode);
      props.changed();
    } catch (err) {
      setError(describe(err));
    }
  };
  const setDebug = async (level: DebugLevel) => {
    setDebugError(undefined);
    try {
      await client.runtime.setDebugLevel(level);
      props.changed();
    } catch (err) {
      setDebugError(describe(err));
    }
  };
  return (
    <>
      <h2>Permissions and tool limits</h2>
      <Async state={state}>
        {(d) => (
          <>
            <Field id="permission-mode" label="Permission mode" error={error}>
              <select
                {...describedBy('permission-mode', error)}
                value={String(d.runtime.permission_mode ?? 'default')}
                onChange={(e) => setMode(e.currentTarget.value as PermissionMode)}
              >
                {MODES.map((m) => (
                  <option key={m} value={m}>
                    {m}
                  </option>
                ))}
              </select>
            </Field>
            <Field
              id="debug-level"
              label="Debug capture"
              error={debugError}
              hint="what new runs record for debugging"
            >
              <select
                {...describedBy('debug-level', debugError)}
                value={String(d.runtime.debug_level ?? 'off')}
                onChange={(e) => setDebug(e.currentTarget.value as DebugLevel)}
              >
                {DEBUG_LEVELS.map((m) => (
                  <option key={m} value={m}>
                    {m}
                  </option>
                ))}
              </select>
            </Field>
            <details>
              <summary>Tool limits</summary>
              <Json value={d.limits} />
            </details>
          </>
        )}
      </Async>
    </>
  );
}

function Mcp(props: Section) {
  const state = useLoad((k) => k.mcp.inventory() as Promise<Row>, [props.tick], 15_000);
  return (
    <>
      <h2>MCP servers</h2>
      <Async state={state}>
        {(inv) => {
          const servers: Row[] = inv.servers ?? [];
          if (servers.length === 0) return <Empty>No MCP server is configured.</Empty>;
          return (
            <Table
              caption="MCP servers"
              rows={servers}
              rowKey={(r) => r.name}
              columns={[
                { label: 'Server', cell: (r) => r.name },
                { label: 'State', cell: (r) => <Badge value={String(r.status ?? r.state ?? 'unknown')} /> },
                { label: 'Tools', cell: (r) => String(r.tools?.length ?? r.tool_count ?? 0) },
              ]}
            />
          );
        }}
      </Async>
    </>
  );
}

function Hooks(props: Section) {
  const state = useLoad(
    async (k) => ({ settings: await k.hooks.get(), dead: await k.hooks.deadLetters() }),
    [props.tick],
    15_000,
  );
  return (
    <>
      <h2>Hooks</h2>
      <Async state={state}>
        {(d) => (
          <>
            <details>
              <summary>Hook settings</summary>
              <Json value={d.settings} />
            </details>
            <h3>Dead letters ({d.dead.length})</h3>
            {d.dead.length === 0 ? <Empty>No failed hook delivery.</Empty> : <Json value={d.dead} />}
          </>
        )}
      </Async>
    </>
  );
}

function Revisions(props: Section) {
  const { client } = useApp();
  const state = useLoad((k) => k.runtime.revisions(), [props.tick], 15_000);
  const [error, setError] = useState<string>();
  const rollback = async (r: RuntimeRevision) => {
    setError(undefined);
    try {
      await client.runtime.rollback({ target_revision: r.revision });
      props.changed();
    } catch (err) {
      setError(describe(err));
    }
  };
  return (
    <>
      <h2>Revisions</h2>
      {error && (
        <p class="field-error" role="alert">
          {error}
        </p>
      )}
      <Async state={state}>
        {(d) => (
          <Table
            caption="Revisions"
            rows={d.revisions}
            rowKey={(r) => String(r.revision)}
            empty="No runtime change yet."
            columns={[
              { label: 'Revision', cell: (r) => `#${r.revision}${r.current ? ' (current)' : ''}` },
              { label: 'Setting', cell: (r) => r.setting },
              { label: 'When', cell: (r) => <Time ms={r.updated_at_ms} /> },
              {
                label: 'Rollback',
                cell: (r) =>
                  r.rollback_target && !r.current ? (
                    <button
                      type="button"
                      onClick={() => rollback(r)}
                      aria-label={`Roll back to revision ${r.revision}`}
                    >
                      Roll back
                    </button>
                  ) : (
                    '—'
                  ),
              },
            ]}
          />
        )}
      </Async>
    </>
  );
}

function Secrets(props: Section) {
  const { client } = useApp();
  const state = useLoad((k) => k.secrets.list(), [props.tick], 15_000);
  const [slot, setSlot] = useState('');
  const [value, setValue] = useState('');
  const [errors, setErrors] = useState<{ slot?: string; value?: string }>({});
  const submit = async (e: Event) => {
    e.preventDefault();
    setErrors({});
    if (!value) return setErrors({ value: 'the secret value is empty' });
    try {
      await client.secrets.put({
        slot_id: slot,
        provider: 'generic',
        mode: 'opaque_secret',
        state: { value },
      });
      setValue('');
      props.changed();
    } catch (err) {
      setErrors({ slot: describe(err) });
    }
  };
  return (
    <>
      <h2>Secret slots</h2>
      <p class="muted">Values are write-only: the daemon never sends them back.</p>
      <Async state={state}>
        {(rows) => (
          <Table
            caption="Secret slots"
            rows={rows as AuthSlotStatus[]}
            rowKey={(r) => r.slot_id}
            columns={[
              { label: 'Slot', cell: (r) => <code>{r.slot_id}</code> },
              { label: 'Provider', cell: (r) => r.provider },
              { label: 'Kind', cell: (r) => r.mode },
              { label: 'Summary', cell: (r) => r.summary },
              { label: 'Updated', cell: (r) => <Time ms={r.updated_at_ms} /> },
            ]}
          />
        )}
      </Async>
      <form class="card form" onSubmit={submit} aria-label="Set a secret">
        <Field id="secret-slot" label="Slot id" error={errors.slot}>
          <input
            {...describedBy('secret-slot', errors.slot)}
            value={slot}
            onInput={(e) => setSlot(e.currentTarget.value)}
          />
        </Field>
        <SecretValueField value={value} error={errors.value} onInput={setValue} />
        <button type="submit">Save secret</button>
      </form>
    </>
  );
}
