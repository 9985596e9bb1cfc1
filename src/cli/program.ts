// Assembles the `kheish-daemon` command line: the base program (global flags, exit codes; see
// program-base.ts) plus one register function per client command group.
import { registerAgents } from './agents.ts';
import { registerApprovals } from './approvals.ts';
import { registerAssets } from './assets.ts';
import { registerAudit } from './audit.ts';
import { registerBackup } from './backup.ts';
import { registerBoards } from './boards.ts';
import { registerChannels } from './channels.ts';
import { registerCompletion } from './completion.ts';
import { registerConnectors } from './connectors.ts';
import { registerDeliveries } from './deliveries.ts';
import { registerDerivations } from './derivations.ts';
import { registerDoctor } from './doctor-checks.ts';
import { registerEvents } from './events.ts';
import { registerExternalConnectors } from './external-connectors.ts';
import { registerLearningSkills } from './learning-skills.ts';
import { registerLearnings } from './learnings.ts';
import { registerMailboxes } from './mailboxes.ts';
import { registerMcp } from './mcp.ts';
import { registerMemory } from './memory.ts';
import { registerObservations } from './observations.ts';
import { registerPersonas } from './personas.ts';
import { registerPlaybooks } from './playbooks.ts';
import { type Cli, type CliOptions, type CommandGroup, createProgram } from './program-base.ts';
import { registerProjects } from './projects.ts';
import { registerQuestions } from './questions.ts';
import { registerRuns } from './runs.ts';
import { registerRuntime } from './runtime-commands.ts';
import { registerSchedules } from './schedules.ts';
import { registerSecrets } from './secrets.ts';
import { registerSessions } from './sessions.ts';
import { registerStatus } from './status.ts';
import { registerTasks } from './tasks.ts';

export { type Cli, type CliOptions, commandName } from './program-base.ts';

/** In `--help` order. */
const CLIENT_COMMANDS: CommandGroup[] = [
  registerStatus,
  registerSessions,
  registerRuns,
  registerSchedules,
  registerApprovals,
  registerQuestions,
  registerTasks,
  registerEvents,
  registerAgents,
  registerMailboxes,
  registerSecrets,
  registerPersonas,
  registerProjects,
  registerBoards,
  registerLearningSkills,
  registerPlaybooks,
  registerLearnings,
  registerAssets,
  registerObservations,
  registerDerivations,
  registerConnectors,
  // After sessions: it adds `sessions reply-targets`.
  registerDeliveries,
  registerExternalConnectors,
  registerChannels,
  registerMcp,
  registerRuntime,
  // After runtime: it adds `runtime run-memory-policy`.
  registerMemory,
  registerDoctor,
  registerAudit,
  // After sessions, secrets and audit: it adds `sessions vacuum`, `secrets rotate-master-key`, `audit rotate-key`.
  registerBackup,
  registerCompletion,
];

export function createCli(opts: CliOptions = {}): Cli {
  return createProgram(opts, CLIENT_COMMANDS);
}
