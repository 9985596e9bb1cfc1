// Session tasks and background shell tasks (docs/tasks.md): the service, the `bash` tool's
// background launcher, the task tools and routes. Shell tasks a dead process left are settled
// before any run resumes; at shutdown the trees are stopped after the executors drained.

import { registerTaskTools } from '../../tools/control/tasks.ts';
import { registerShellTool } from '../../tools/shell/index.ts';
import type { FeatureModule } from '../feature.ts';
import { registerTaskRoutes } from './routes.ts';
import { TasksService } from './service.ts';

export const tasksFeature: FeatureModule<TasksService> = {
  name: 'tasks',
  create: (k) => {
    const tasks = new TasksService({
      store: k.store,
      events: k.events,
      stateRoot: k.config.stateRoot,
      outputMaxBytes: k.config.shellTaskOutputMaxBytes,
      maxRuntimeMs: k.config.shellTaskMaxRuntimeMs,
      replica: { replicaId: k.replica.id, ttlMs: k.engine.leases.ttlMs },
      log: k.log,
    });
    tasks.hooks = () => k.engine.hooks;
    registerShellTool(k.tools, {
      sandbox: k.config.requireSandbox ? 'require' : 'auto',
      hiddenPaths: [k.config.stateRoot],
      limits: k.toolLimits.get,
      backgroundTasks: tasks,
    });
    registerTaskTools(k.tools, tasks);
    return tasks;
  },
  routes: (app, tasks) => registerTaskRoutes(app, tasks),
  prepare: async (tasks) => {
    await tasks.recover();
  },
  shutdown: (tasks) => tasks.shutdown(),
};
