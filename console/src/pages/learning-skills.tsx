// Procedure learnings promoted into daemon-owned skills (api-collab §4.6), read-only: where each
// stands in its rollout (draft → verified → canary → active, or revoked) and the evidence counts
// that moved it. Promotion and rollout results are recorded from runs, through the API or CLI.
import type { LearningSkillView } from '../../../src/sdk/index.ts';
import { Async, Badge, Time, useLoad } from '../ui.tsx';
import type { LearningSection } from './learnings-list.tsx';
import { Table } from './table.tsx';

export function LearningSkills(props: LearningSection) {
  const state = useLoad((k) => k.learningSkills.list(), [props.tick], 15_000);
  return (
    <>
      <h2>Promoted skills</h2>
      <Async state={state}>
        {(rows) => (
          <Table<LearningSkillView>
            caption="Promoted skills"
            rows={rows}
            rowKey={(s) => s.skill_name}
            empty="No procedure has been promoted to a skill (kheish-daemon learning-skills promote)."
            columns={[
              { label: 'Skill', cell: (s) => <code>{s.skill_name}</code> },
              { label: 'Status', cell: (s) => <Badge value={s.status} /> },
              { label: 'Verification', cell: (s) => s.verification_status },
              {
                label: 'Successful runs',
                cell: (s) => `${s.successful_run_count} in ${s.distinct_session_count} session(s)`,
              },
              {
                label: 'Canary',
                cell: (s) => `${s.canary_success_count} passed, ${s.canary_failure_count} failed`,
              },
              { label: 'Generation', cell: (s) => String(s.rollout_generation) },
              { label: 'From learning', cell: (s) => <code>{s.source_learning_id}</code> },
              { label: 'Updated', cell: (s) => <Time ms={s.updated_at_ms} /> },
            ]}
          />
        )}
      </Async>
    </>
  );
}
