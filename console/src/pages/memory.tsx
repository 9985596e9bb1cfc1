// Memory of one session (api-core §3.5, docs/memory.md): what its next prompt would get (learning
// scopes, learned_context, recovered_memory, visible skills) and a search over what it can see,
// with each result's kind, score and matched fields. One query box drives both: search results
// first, then the context ranked against the query as a prompt about it would be. Read-only; through the SDK's `memory` resource.
import { useState } from 'preact/hooks';
import type { MemorySearchResult, RecoveredMemoryEntry, SessionSummary } from '../../../src/sdk/index.ts';
import { href } from '../router.ts';
import { Async, Badge, Empty, items, PageHeader, SessionOptions, Time, useLoad } from '../ui.tsx';
import { Table } from './table.tsx';

type Row = Record<string, any>;
const score = (n: number) => n.toFixed(2);

export function MemoryPage(props: { args: string[] }) {
  const sessions = useLoad((k) => k.sessions.list({ limit: 200 }).then((r) => items<SessionSummary>(r)));
  const session = props.args[0] ?? '';
  const [draft, setDraft] = useState('');
  const [query, setQuery] = useState('');
  return (
    <section>
      <PageHeader title={session ? `Memory · ${session}` : 'Memory'} />
      <form
        class="filters"
        aria-label="Search memory"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery(draft.trim());
        }}
      >
        <label>
          Session{' '}
          <select value={session} onChange={(e) => (location.hash = href('memory', e.currentTarget.value))}>
            <SessionOptions sessions={sessions.data} />
          </select>
        </label>
        <label>
          Query{' '}
          <input
            type="search"
            value={draft}
            placeholder="what a prompt would be about"
            onInput={(e) => setDraft(e.currentTarget.value)}
          />
        </label>
        <button type="submit">Search</button>
      </form>
      {session ? (
        <>
          <Search session={session} query={query} />
          <Context session={session} query={query} />
        </>
      ) : (
        <Empty>Choose a session to see what it remembers.</Empty>
      )}
    </section>
  );
}

function Context(props: { session: string; query: string }) {
  const state = useLoad(
    (k) => k.memory.context(props.session, props.query || undefined),
    [props.session, props.query],
    15_000,
  );
  return (
    <Async state={state}>
      {(ctx) => (
        <>
          {/* Titled from the answer, so results of a previous query never show under a new one. */}
          <h2>What the next prompt would get{ctx.query ? ` (about “${ctx.query}”)` : ''}</h2>
          <p>
            Learning scopes:{' '}
            {ctx.learning_scopes.map((s) => (
              <span key={`${s.kind}:${s.id}`}>
                <code>
                  {s.kind}:{s.id}
                </code>{' '}
              </span>
            ))}
          </p>
          <h3>Learned context ({ctx.learned_context.length})</h3>
          <Table<Row>
            caption="Learned context"
            rows={ctx.learned_context as Row[]}
            rowKey={(l) => String(l.learning_id)}
            empty="No learning would go in."
            columns={[
              { label: 'Content', cell: (l) => String(l.content) },
              { label: 'Kind', cell: (l) => String(l.kind).replaceAll('_', ' ') },
              { label: 'Scope', cell: (l) => <code>{`${l.scope?.kind}:${l.scope?.id}`}</code> },
              { label: 'Status', cell: (l) => <Badge value={String(l.status)} /> },
              { label: 'Score', cell: (l) => score(Number(l.score)) },
            ]}
          />
          <h3>Recovered memory ({ctx.recovered_memory.length})</h3>
          <Table<RecoveredMemoryEntry>
            caption="Recovered memory"
            rows={ctx.recovered_memory}
            rowKey={(r) => r.run_id}
            empty="No run record would go in."
            columns={[
              { label: 'Summary', cell: (r) => r.summary },
              { label: 'Run', cell: (r) => <a href={href('runs', r.run_id)}>{r.run_id}</a> },
              { label: 'Status', cell: (r) => <Badge value={r.status} /> },
              { label: 'Score', cell: (r) => score(r.score) },
              { label: 'Captured', cell: (r) => <Time ms={r.captured_at_ms} /> },
            ]}
          />
          <h3>Visible skills ({ctx.visible_skills.length})</h3>
          <Table<Row>
            caption="Visible skills"
            rows={ctx.visible_skills as Row[]}
            rowKey={(s) => String(s.name)}
            empty="No skill is visible to this session."
            columns={[
              { label: 'Skill', cell: (s) => <code>{String(s.name)}</code> },
              { label: 'Description', cell: (s) => <span class="clip">{String(s.description ?? '')}</span> },
              { label: 'Scope', cell: (s) => String(s.scope ?? '—') },
            ]}
          />
        </>
      )}
    </Async>
  );
}

function Search(props: { session: string; query: string }) {
  const state = useLoad(
    (k) => k.memory.search(props.session, { query: props.query || undefined, limit: 50 }),
    [props.session, props.query],
    15_000,
  );
  return (
    <Async state={state}>
      {(found) => (
        <>
          <h2>{found.query ? `Search: “${found.query}”` : 'Newest memory (no query)'}</h2>
          <Table<MemorySearchResult>
            caption="Memory search results"
            rows={found.results}
            rowKey={(r) => `${r.kind}:${r.source_id}`}
            empty={found.query ? 'Nothing this session can see matches.' : 'Nothing recorded yet.'}
            columns={[
              { label: 'Kind', cell: (r) => <Badge value={r.kind} /> },
              {
                label: 'Entry',
                cell: (r) => (
                  <>
                    <strong>{r.title}</strong>
                    <br />
                    <small>{r.excerpt}</small>
                  </>
                ),
              },
              { label: 'Score', cell: (r) => score(r.score) },
              { label: 'Matched', cell: (r) => r.matched_fields.join(', ') || '—' },
              { label: 'In prompts', cell: (r) => (r.prompt_eligible ? 'yes' : 'no') },
              { label: 'When', cell: (r) => <Time ms={r.timestamp_ms} /> },
            ]}
          />
          {found.truncated && <p class="muted">More results exist: refine the query.</p>}
        </>
      )}
    </Async>
  );
}
