// Migrations are plain Kysely schema-builder code so they run on every dialect.
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely/migration';
import { ddlOf } from '../dialect.ts';
import { m0002secrets } from './0002-secrets.ts';
import { m0003usageBudgets } from './0003-usage-budgets.ts';
import { m0004approvalsQuestions } from './0004-approvals-questions.ts';
import { m0005externalActions } from './0005-external-actions.ts';
import { m0006tasks } from './0006-tasks.ts';
import { m0007schedules } from './0007-schedules.ts';
import { m0008agents } from './0008-agents.ts';
import { m0009mailboxes } from './0009-mailboxes.ts';
import { m0010permissionAudits } from './0010-permission-audits.ts';
import { m0011counters } from './0011-counters.ts';
import { m0012hotPathIndexes } from './0012-hot-path-indexes.ts';
import { m0013replicas } from './0013-replicas.ts';
import { m0014blobChunks } from './0014-blob-chunks.ts';
import { m0015inputContracts } from './0015-input-contracts.ts';
import { m0016hookDeadLetters } from './0016-hook-dead-letters.ts';
import { m0017skillActivations } from './0017-skill-activations.ts';
import { m0018debugArtifacts } from './0018-debug-artifacts.ts';
import { m0019personas } from './0019-personas.ts';
import { m0020credentialLeases } from './0020-credential-leases.ts';
import { m0021assets } from './0021-assets.ts';
import { m0022observations } from './0022-observations.ts';
import { m0023derivations } from './0023-derivations.ts';
import { m0025connectors } from './0025-connectors.ts';
import { m0026deliveries } from './0026-deliveries.ts';
import { m0027chatConnectors } from './0027-chat-connectors.ts';
import { m0028externalConnectors } from './0028-external-connectors.ts';
import { m0030channels } from './0030-channels.ts';
import { m0031channelStimuli } from './0031-channel-stimuli.ts';
import { m0032projects } from './0032-projects.ts';
import { m0033playbooks } from './0033-playbooks.ts';
import { m0034boards } from './0034-boards.ts';
import { m0035runMemories } from './0035-run-memories.ts';
import { m0036learnings } from './0036-learnings.ts';
import { m0037learningSkills } from './0037-learning-skills.ts';
import { m0040learningSkillWorktrees } from './0040-learning-skill-worktrees.ts';

const m0001core: Migration = {
  async up(db: Kysely<any>) {
    const ddl = ddlOf(db);
    await db.schema
      .createTable('sessions')
      .addColumn('session_id', 'text', (c) => c.primaryKey())
      .addColumn('agent_id', 'text', (c) => c.notNull())
      .addColumn('thread_id', 'text')
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('ended_at_ms', 'bigint')
      .addColumn('end_reason', 'text')
      .addColumn('route_policy', 'text')
      .addColumn('capability_scope', 'text')
      .addColumn('credential_scope', 'text')
      .addColumn('reply_targets', 'text')
      .addColumn('persona', 'text')
      .execute();

    await db.schema
      .createTable('runs')
      .addColumn('run_id', 'text', (c) => c.primaryKey())
      .addColumn('session_id', 'text', (c) => c.notNull())
      .addColumn('agent_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('queue_seq', 'bigint', (c) => c.notNull())
      .addColumn('submitted_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('started_at_ms', 'bigint')
      .addColumn('finished_at_ms', 'bigint')
      .addColumn('request', 'text', (c) => c.notNull())
      .addColumn('summary', 'text', (c) => c.notNull())
      .addColumn('route_id', 'text', (c) => c.notNull())
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('error', 'text')
      .addColumn('idempotency_key_hash', 'text')
      .addColumn('idempotency_fingerprint', 'text')
      .execute();
    await db.schema.createIndex('runs_session_seq').on('runs').columns(['session_id', 'queue_seq']).execute();
    await db.schema.createIndex('runs_status').on('runs').columns(['status', 'queue_seq']).execute();
    await db.schema
      .createIndex('runs_idempotency')
      .unique()
      .on('runs')
      .columns(['session_id', 'idempotency_key_hash'])
      .where(sql.ref('idempotency_key_hash'), 'is not', null)
      .execute();

    await ddl
      .addAutoIncrementId(db.schema.createTable('run_events'), 'id')
      .addColumn('run_id', 'text', (c) => c.notNull())
      .addColumn('session_id', 'text', (c) => c.notNull())
      .addColumn('agent_id', 'text', (c) => c.notNull())
      .addColumn('timestamp_ms', 'bigint', (c) => c.notNull())
      .addColumn('event', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('run_events_run').on('run_events').columns(['run_id', 'id']).execute();
    await db.schema
      .createIndex('run_events_session')
      .on('run_events')
      .columns(['session_id', 'id'])
      .execute();

    await ddl
      .addAutoIncrementId(db.schema.createTable('events'), 'id')
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('session_id', 'text')
      .addColumn('run_id', 'text')
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .execute();

    await ddl
      .addAutoIncrementId(db.schema.createTable('outputs'), 'id')
      .addColumn('session_id', 'text', (c) => c.notNull())
      .addColumn('run_id', 'text', (c) => c.notNull())
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('record', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('outputs_run').on('outputs').columns(['run_id', 'id']).execute();
    await db.schema.createIndex('outputs_session').on('outputs').columns(['session_id', 'id']).execute();

    await db.schema
      .createTable('journal')
      .addColumn('session_id', 'text', (c) => c.notNull())
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .addColumn('run_id', 'text')
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('journal_pk', ['session_id', 'seq'])
      .execute();
    await db.schema.createIndex('journal_run').on('journal').columns(['run_id', 'seq']).execute();

    await db.schema
      .createTable('daemon_meta')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .execute();
  },
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return {
      '0001_core': m0001core,
      '0002_secrets': m0002secrets,
      '0003_usage_budgets': m0003usageBudgets,
      '0004_approvals_questions': m0004approvalsQuestions,
      '0005_external_actions': m0005externalActions,
      '0006_tasks': m0006tasks,
      '0007_schedules': m0007schedules,
      '0008_agents': m0008agents,
      '0009_mailboxes': m0009mailboxes,
      '0010_permission_audits': m0010permissionAudits,
      '0011_counters': m0011counters,
      '0012_hot_path_indexes': m0012hotPathIndexes,
      '0013_replicas': m0013replicas,
      '0014_blob_chunks': m0014blobChunks,
      '0015_input_contracts': m0015inputContracts,
      '0016_hook_dead_letters': m0016hookDeadLetters,
      '0017_skill_activations': m0017skillActivations,
      '0018_debug_artifacts': m0018debugArtifacts,
      '0019_personas': m0019personas,
      '0020_credential_leases': m0020credentialLeases,
      '0021_assets': m0021assets,
      '0022_observations': m0022observations,
      '0023_derivations': m0023derivations,
      '0025_connectors': m0025connectors,
      '0026_deliveries': m0026deliveries,
      '0027_chat_connectors': m0027chatConnectors,
      '0028_external_connectors': m0028externalConnectors,
      '0030_channels': m0030channels,
      '0031_channel_stimuli': m0031channelStimuli,
      '0032_projects': m0032projects,
      '0033_playbooks': m0033playbooks,
      '0034_boards': m0034boards,
      '0035_run_memories': m0035runMemories,
      '0036_learnings': m0036learnings,
      '0037_learning_skills': m0037learningSkills,
      '0040_learning_skill_worktrees': m0040learningSkillWorktrees,
    };
  },
};
