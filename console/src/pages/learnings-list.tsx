// The published learnings, filtered by scope (kind and id), kind and status (the daemon filters: the query goes
// to `GET /v1/learnings`), with revoke and supersede. Superseding asks for the new content in a
// form under the table; the daemon's problem detail shows next to that field.
import { useState } from 'preact/hooks';
import type { LearningKind, LearningScopeKind, LearningView } from '../../../src/sdk/index.ts';
import { describe } from '../api.ts';
import { fieldErrors } from '../field-errors.ts';
import { Async, Badge, CommitInput, describedBy, ErrorNote, Field, Time, useApp, useLoad } from '../ui.tsx';
import { Table } from './table.tsx';

/** `tick` changes after any change made on the page, so every section loads again. */
export interface LearningSection {
  tick: number;
  changed(): void;
}

export const scopeText = (scope: { kind: string; id: string }) => `${scope.kind}:${scope.id}`;

const SCOPES: LearningScopeKind[] = ['session', 'persona', 'project', 'workspace'];
const KINDS: LearningKind[] = ['run_summary', 'fact', 'preference', 'decision', 'procedure'];
const STATUSES: LearningView['status'][] = ['active', 'provisional', 'revoked', 'superseded', 'expired'];
const LIVE = new Set(['active', 'provisional']);

function Choice<T extends string>(props: {
  label: string;
  value: string;
  options: T[];
  set(v: string): void;
}) {
  const id = `learning-filter-${props.label.toLowerCase().replaceAll(' ', '-')}`;
  return (
    <span>
      <label for={id}>{props.label}</label>{' '}
      <select id={id} value={props.value} onChange={(e) => props.set(e.currentTarget.value)}>
        <option value="">any</option>
        {props.options.map((o) => (
          <option key={o} value={o}>
            {o.replaceAll('_', ' ')}
          </option>
        ))}
      </select>
    </span>
  );
}

export function LearningList(props: LearningSection) {
  const { client } = useApp();
  const [scope, setScope] = useState('');
  const [scopeId, setScopeId] = useState('');
  const [kind, setKind] = useState('');
  const [status, setStatus] = useState('');
  const state = useLoad(
    (k) =>
      k.learnings.list({
        scope_kind: (scope || undefined) as LearningScopeKind | undefined,
        scope_id: scopeId.trim() || undefined,
        kind: (kind || undefined) as LearningKind | undefined,
        status: (status || undefined) as LearningView['status'] | undefined,
      }),
    [props.tick, scope, scopeId, kind, status],
    10_000,
  );
  // The daemon refuses a session, persona or project scope without its id: said at the id field.
  const scopeError =
    state.error !== undefined && describe(state.error).includes('scope') ? describe(state.error) : undefined;
  const [error, setError] = useState('');
  const [replacing, setReplacing] = useState<LearningView>();
  const revoke = async (l: LearningView) => {
    setError('');
    try {
      await client.learnings.revoke(l.learning_id, 'revoked in the console');
      props.changed();
    } catch (err) {
      setError(describe(err));
    }
  };
  return (
    <>
      <h2>Learnings</h2>
      <form class="filters" aria-label="Filter learnings" onSubmit={(e) => e.preventDefault()}>
        <Choice label="Scope" value={scope} options={SCOPES} set={setScope} />
        <span class={scopeError ? 'has-error' : undefined}>
          <label for="learning-scope-id">Scope id</label>{' '}
          <CommitInput
            {...describedBy('learning-scope-id', scopeError)}
            value={scopeId}
            size={14}
            placeholder={scope === 'workspace' ? 'default' : 'id'}
            onCommit={setScopeId}
          />
          {scopeError && (
            <small id="learning-scope-id-error" class="field-error" role="alert">
              {scopeError}
            </small>
          )}
        </span>
        <Choice label="Kind" value={kind} options={KINDS} set={setKind} />
        <Choice label="Status" value={status} options={STATUSES} set={setStatus} />
      </form>
      {error && <ErrorNote error={new Error(error)} />}
      <Async state={state}>
        {(rows) => (
          <Table<LearningView>
            caption="Learnings"
            rows={rows}
            rowKey={(l) => l.learning_id}
            empty="No learning matches."
            columns={[
              { label: 'Content', cell: (l) => <span class="clip">{l.content}</span> },
              { label: 'Kind', cell: (l) => l.kind.replaceAll('_', ' ') },
              { label: 'Scope', cell: (l) => <code>{scopeText(l.scope)}</code> },
              { label: 'Status', cell: (l) => <Badge value={l.status} /> },
              { label: 'Decided by', cell: (l) => `${l.policy_decision} (${l.policy_actor})` },
              { label: 'Published', cell: (l) => <Time ms={l.created_at_ms} /> },
              {
                label: 'Actions',
                cell: (l) =>
                  LIVE.has(l.status) ? (
                    <span class="row-actions">
                      <button type="button" aria-label={`Revoke: ${l.content}`} onClick={() => revoke(l)}>
                        Revoke
                      </button>
                      <button
                        type="button"
                        aria-label={`Supersede: ${l.content}`}
                        onClick={() => setReplacing(l)}
                      >
                        Supersede
                      </button>
                    </span>
                  ) : (
                    <span class="muted">{l.superseded_by ? `by ${l.superseded_by}` : '—'}</span>
                  ),
              },
            ]}
          />
        )}
      </Async>
      {replacing && (
        <SupersedeForm
          key={replacing.learning_id}
          learning={replacing}
          done={() => {
            setReplacing(undefined);
            props.changed();
          }}
          cancel={() => setReplacing(undefined)}
        />
      )}
    </>
  );
}

function SupersedeForm(props: { learning: LearningView; done(): void; cancel(): void }) {
  const { client } = useApp();
  const [content, setContent] = useState(props.learning.content);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const submit = async (e: Event) => {
    e.preventDefault();
    setErrors({});
    try {
      await client.learnings.supersede(props.learning.learning_id, { content });
      props.done();
    } catch (err) {
      // The daemon checks the content (empty, too long, looks like a secret): its words, at the field.
      setErrors(fieldErrors(err, { content: ['content'] }));
    }
  };
  return (
    <form class="card form" onSubmit={submit} aria-label="Supersede a learning">
      <h3>Supersede {props.learning.learning_id}</h3>
      <Field
        id="supersede-content"
        label="New content"
        error={errors.content}
        hint="The old learning is kept as superseded, pointing at the new one"
      >
        <textarea
          {...describedBy('supersede-content', errors.content)}
          rows={3}
          value={content}
          onInput={(e) => setContent(e.currentTarget.value)}
        />
      </Field>
      {errors.form && <ErrorNote error={new Error(errors.form)} />}
      <div class="actions">
        <button type="submit" class="primary">
          Publish the new version
        </button>
        <button type="button" onClick={props.cancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
