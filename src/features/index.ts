// Every API domain of the daemon. A new domain adds its folder (with an index.ts exporting its
// FeatureModule) and one line here. The order is the order of creation (engine hooks run in the
// order features installed them: tasks, mailboxes, agents, then the schedule timer's), of the
// lifecycle calls and of the routes in the OpenAPI document.
import { agentsFeature } from './agents/index.ts';
import { approvalsFeature } from './approvals/index.ts';
import { assetsFeature } from './assets/index.ts';
import { boardsFeature } from './boards/index.ts';
import { channelStimuliFeature } from './channel-stimuli/index.ts';
import { channelsFeature } from './channels/index.ts';
import { chatConnectorsFeature } from './chat-connectors/index.ts';
import { connectorsFeature } from './connectors/index.ts';
import { consoleFeature } from './console/index.ts';
import { credentialsFeature } from './credentials/index.ts';
import { debugFeature } from './debug/index.ts';
import { deliveriesFeature } from './deliveries/index.ts';
import { derivationsFeature } from './derivations/index.ts';
import { docsFeature } from './docs/index.ts';
import { doctorFeature } from './doctor/index.ts';
import { externalConnectorsFeature } from './external-connectors/index.ts';
import type { FeatureModule } from './feature.ts';
import { generatorsFeature } from './generators/index.ts';
import { hooksFeature } from './hooks/index.ts';
import { learningSkillsFeature } from './learning-skills/index.ts';
import { learningsFeature } from './learnings/index.ts';
import { logsFeature } from './logs/index.ts';
import { mailboxesFeature } from './mailboxes/index.ts';
import { mcpFeature } from './mcp/index.ts';
import { memoryFeature } from './memory/index.ts';
import { metricsFeature } from './metrics/index.ts';
import { multimodalFeature } from './multimodal/index.ts';
import { observationsFeature } from './observations/index.ts';
import { personasFeature } from './personas/index.ts';
import { playbooksFeature } from './playbooks/index.ts';
import { projectsFeature } from './projects/index.ts';
import { questionsFeature } from './questions/index.ts';
import { runsFeature } from './runs/index.ts';
import { runtimeFeature } from './runtime/index.ts';
import { schedulesFeature } from './schedules/index.ts';
import { secretsFeature } from './secrets/index.ts';
import { sessionsFeature } from './sessions/index.ts';
import { skillsFeature } from './skills/index.ts';
import { tasksFeature } from './tasks/index.ts';

export const FEATURES: FeatureModule<any>[] = [
  tasksFeature,
  mailboxesFeature,
  agentsFeature,
  schedulesFeature,
  runtimeFeature,
  // After runtime and before skills: the persona's prompt section sits between theirs.
  personasFeature,
  hooksFeature,
  secretsFeature,
  credentialsFeature,
  sessionsFeature,
  runsFeature,
  questionsFeature,
  approvalsFeature,
  logsFeature,
  docsFeature,
  skillsFeature,
  memoryFeature,
  learningsFeature,
  learningSkillsFeature,
  debugFeature,
  mcpFeature,
  assetsFeature,
  observationsFeature,
  multimodalFeature,
  generatorsFeature,
  deliveriesFeature,
  connectorsFeature,
  derivationsFeature,
  externalConnectorsFeature,
  channelsFeature,
  channelStimuliFeature,
  chatConnectorsFeature,
  projectsFeature,
  boardsFeature,
  playbooksFeature,
  // Static files only, outside /v1; after the API's domains so their routes are listed first.
  consoleFeature,
  // Last: they only read the others (status figures, events, runtime sections).
  doctorFeature,
  metricsFeature,
];
