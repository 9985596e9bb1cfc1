// Every page of the console, in navigation order. A new page is its own file here plus one entry in
// this list; the shell knows no page by name.
import type { ComponentType } from 'preact';
import { AgentsPage } from './agents.tsx';
import { ChatPage } from './chat.tsx';
import { AssetsPage, BoardsPage, ChannelsPage, FlowsPage, ProjectsPage } from './collab.tsx';
import { InboxPage } from './inbox.tsx';
import { LearningsPage } from './learnings.tsx';
import { MemoryPage } from './memory.tsx';
import { RunsPage } from './runs.tsx';
import { RuntimePage } from './runtime.tsx';
import { StatusPage } from './status.tsx';
import { WizardPage } from './wizard.tsx';
import { SchedulesPage, TasksPage } from './work.tsx';

export interface PageEntry {
  id: string;
  title: string;
  component: ComponentType<{ args: string[] }>;
  /** Not listed in the navigation (reached by a link). */
  hidden?: boolean;
}

export const PAGES: PageEntry[] = [
  { id: 'chat', title: 'Chat', component: ChatPage },
  { id: 'inbox', title: 'Inbox', component: InboxPage },
  { id: 'runs', title: 'Runs', component: RunsPage },
  { id: 'agents', title: 'Agents', component: AgentsPage },
  { id: 'tasks', title: 'Tasks', component: TasksPage },
  { id: 'schedules', title: 'Schedules', component: SchedulesPage },
  { id: 'channels', title: 'Channels', component: ChannelsPage },
  { id: 'projects', title: 'Projects', component: ProjectsPage },
  { id: 'flows', title: 'Flows', component: FlowsPage },
  { id: 'boards', title: 'Boards', component: BoardsPage },
  { id: 'assets', title: 'Assets', component: AssetsPage },
  { id: 'learnings', title: 'Learnings', component: LearningsPage },
  { id: 'memory', title: 'Memory', component: MemoryPage },
  { id: 'runtime', title: 'Runtime', component: RuntimePage },
  { id: 'status', title: 'Status', component: StatusPage },
  { id: 'setup', title: 'Setup', component: WizardPage, hidden: true },
];
