// Projects and project tasks (api-collab §2, docs/projects.md): coordination records over
// sessions, runs and channels. A task start is an ordinary `input` run in the assignee's session;
// the task follows that run in the transaction of each of its status changes (engine.onRunChange);
// ending a member session is refused (engine.guardSessionEnd); a linked channel cannot be deleted
// (the channels feature's delete guard).
import type { ChannelsPort } from '../channels/port.ts';
import type { FeatureModule } from '../feature.ts';
import { channelDeleteReason, followRun, guardSessionEnd } from './follow.ts';
import { MirrorReconciler } from './mirror.ts';
import { registerProjectRoutes } from './routes.ts';
import { ProjectsService } from './service.ts';
import { TaskStarter } from './start.ts';
import { ProjectTasks } from './tasks.ts';

export interface ProjectsFeature {
  projects: ProjectsService;
  tasks: ProjectTasks;
  starter: TaskStarter;
}

export const projectsFeature: FeatureModule<ProjectsFeature> = {
  name: 'projects',
  create: (k) => {
    const channelsPort = k.use<ChannelsPort>('channels');
    const channels = () => channelsPort;
    const mirror = new MirrorReconciler(k.store, channels, k.log);
    const projects = new ProjectsService(k.store, channels, mirror);
    k.engine.onRunChange((tx, run) => followRun(projects, tx, run));
    k.engine.guardSessionEnd(guardSessionEnd);
    channelsPort.addDeleteGuard((channelId) => channelDeleteReason(k.store.db, channelId));
    return {
      projects,
      tasks: new ProjectTasks(projects, channels),
      starter: new TaskStarter(projects, k.engine, channels),
    };
  },
  routes: (app, f) => registerProjectRoutes(app, f),
};
