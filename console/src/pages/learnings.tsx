// Learnings (api-collab §4): candidates waiting for a decision (pending, or escalated by the
// automation policy) with publish and reject, the learnings list (learnings-list.tsx), the
// promoted skills (learning-skills.tsx), and the automation policy, read-only with the runtime
// revision it was set at. Everything goes through the SDK (`learnings`, `learningSkills`).
import { useState } from 'preact/hooks';
import type { LearningCandidateView, RuntimeRevision } from '../../../src/sdk/index.ts';
import { describe } from '../api.ts';
import { Async, Badge, ErrorNote, Json, PageHeader, Time, useApp, useLoad } from '../ui.tsx';
import { LearningSkills } from './learning-skills.tsx';
import { LearningList, type LearningSection, scopeText } from './learnings-list.tsx';
import { Table } from './table.tsx';

type Row = Record<string, any>;

export function LearningsPage() {
  const [tick, setTick] = useState(0);
  const s: LearningSection = { tick, changed: () => setTick((t) => t + 1) };
  return (
    <section>
      <PageHeader title="Learnings" />
      <Candidates {...s} />
      <LearningList {...s} />
      <LearningSkills {...s} />
      <Policy {...s} />
    </section>
  );
}

function Candidates(props: LearningSection) {
  const { client } = useApp();
  const state = useLoad(
    async (k) => {
      const [pending, escalated] = await Promise.all([
        k.learnings.listCandidates({ state: 'pending' }),
        k.learnings.listCandidates({ state: 'escalated' }),
      ]);
      return [...escalated, ...pending].sort((a, b) => b.created_at_ms - a.created_at_ms);
    },
    [props.tick],
    10_000,
  );
  const [error, setError] = useState('');
  const act = async (work: () => Promise<unknown>) => {
    setError('');
    try {
      await work();
      props.changed();
    } catch (err) {
      setError(describe(err));
    }
  };
  return (
    <>
      <h2>Candidates waiting for a decision</h2>
      {error && <ErrorNote error={new Error(error)} />}
      <Async state={state}>
        {(rows) => (
          <Table<LearningCandidateView>
            caption="Candidates"
            rows={rows}
            rowKey={(c) => c.candidate_id}
            empty="No candidate is waiting: runs and the API propose them, the automation policy reviews them."
            columns={[
              { label: 'Content', cell: (c) => <span class="clip">{c.content}</span> },
              { label: 'Kind', cell: (c) => c.kind.replaceAll('_', ' ') },
              { label: 'Scope', cell: (c) => <code>{scopeText(c.scope)}</code> },
              { label: 'State', cell: (c) => <Badge value={c.state} /> },
              { label: 'Confidence', cell: (c) => `${c.confidence}%` },
              {
                label: 'Policy review',
                cell: (c) => String((c.automation_review as Row | null)?.reason ?? '—'),
              },
              { label: 'Proposed', cell: (c) => <Time ms={c.created_at_ms} /> },
              {
                label: 'Decision',
                cell: (c) => (
                  <span class="row-actions">
                    <button
                      type="button"
                      aria-label={`Publish: ${c.content}`}
                      onClick={() => act(() => client.learnings.publishCandidate(c.candidate_id))}
                    >
                      Publish
                    </button>
                    <button
                      type="button"
                      aria-label={`Reject: ${c.content}`}
                      onClick={() =>
                        act(() => client.learnings.rejectCandidate(c.candidate_id, 'rejected in the console'))
                      }
                    >
                      Reject
                    </button>
                  </span>
                ),
              },
            ]}
          />
        )}
      </Async>
    </>
  );
}

/** The revision the policy was last set at: the newest retained runtime revision naming it. */
function policyRevision(revisions: RuntimeRevision[]): number | undefined {
  return revisions.find((r) => r.setting === 'learning_policy')?.revision;
}

function Policy(props: LearningSection) {
  const state = useLoad(
    async (k) => {
      const [policy, revisions] = await Promise.all([k.learnings.getPolicy(), k.runtime.revisions()]);
      return {
        policy: policy as Row,
        current: revisions.current_revision,
        at: policyRevision(revisions.revisions),
      };
    },
    [props.tick],
    15_000,
  );
  return (
    <>
      <h2>Automation policy</h2>
      <Async state={state}>
        {({ policy, current, at }) => (
          <div class="card">
            <p class="muted">
              Read-only here; change it with <code>POST /v1/runtime/learning-policy</code> (or the CLI).{' '}
              {at === undefined
                ? `The default policy: never changed (runtime revision #${current}).`
                : `Set at runtime revision #${at}${at === current ? ' (current)' : `; current #${current}`}.`}
            </p>
            <dl class="facts">
              <dt>Mode</dt>
              <dd>
                <Badge value={String(policy.mode)} />
              </dd>
              <dt>Default action</dt>
              <dd>{String(policy.publication?.default_action ?? '—').replaceAll('_', ' ')}</dd>
              <dt>Rules</dt>
              <dd>{(policy.publication?.rules ?? []).length}</dd>
              <dt>Run summaries captured</dt>
              <dd>{policy.capture?.run_summary_candidates ? 'yes' : 'no'}</dd>
              <dt>Model-proposed candidates</dt>
              <dd>{policy.capture?.semantic_candidates?.enabled ? 'on' : 'off'}</dd>
              <dt>Judge</dt>
              <dd>{policy.judge?.enabled ? 'on' : 'off'}</dd>
            </dl>
            <details>
              <summary>The whole policy</summary>
              <Json value={policy} />
            </details>
          </div>
        )}
      </Async>
    </>
  );
}
