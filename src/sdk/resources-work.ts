// Resource clients for background work and multi-agent plumbing: session tasks, schedules, managed
// agents and mailboxes. Each method is the function of the same domain file, bound to one client.
import * as agents from './agents.ts';
import type { DaemonClient } from './client.ts';
import * as mailboxes from './mailboxes.ts';
import * as schedules from './schedules.ts';
import * as tasks from './tasks.ts';
import type { JsonObject, ListResult } from './types.ts';

export class TasksResource {
  private readonly http: DaemonClient;

  constructor(http: DaemonClient) {
    this.http = http;
  }

  list(sessionId: string, query: tasks.TaskListQuery = {}): Promise<ListResult<tasks.TaskRecord>> {
    return tasks.listTasks(this.http, sessionId, query);
  }

  get(sessionId: string, taskId: string): Promise<tasks.TaskRecord> {
    return tasks.getTask(this.http, sessionId, taskId);
  }

  /** A task's output; with `wait: true` the daemon holds the answer until the task ends or `timeout_ms`. */
  output(
    sessionId: string,
    taskId: string,
    query: tasks.TaskOutputQuery = {},
    signal?: AbortSignal,
  ): Promise<tasks.TaskOutputView> {
    return tasks.getTaskOutput(this.http, sessionId, taskId, query, signal);
  }

  stop(sessionId: string, taskId: string, reason?: string): Promise<tasks.TaskRecord> {
    return tasks.stopTask(this.http, sessionId, taskId, reason);
  }
}

export class SchedulesResource {
  private readonly http: DaemonClient;

  constructor(http: DaemonClient) {
    this.http = http;
  }

  list(query: schedules.ScheduleListQuery = {}): Promise<ListResult<schedules.ScheduleView>> {
    return schedules.listSchedules(this.http, query);
  }

  get(scheduleId: string): Promise<schedules.ScheduleView> {
    return schedules.getSchedule(this.http, scheduleId);
  }

  create(body: schedules.ScheduleCreateRequest): Promise<schedules.ScheduleView> {
    return schedules.createSchedule(this.http, body);
  }

  /** Fires now, whatever the cadence (recorded as a manual execution). */
  trigger(scheduleId: string): Promise<schedules.ScheduleView> {
    return schedules.triggerSchedule(this.http, scheduleId);
  }

  pause(scheduleId: string): Promise<schedules.ScheduleView> {
    return schedules.pauseSchedule(this.http, scheduleId);
  }

  resume(scheduleId: string): Promise<schedules.ScheduleView> {
    return schedules.resumeSchedule(this.http, scheduleId);
  }

  cancel(scheduleId: string): Promise<schedules.ScheduleView> {
    return schedules.cancelSchedule(this.http, scheduleId);
  }
}

export class AgentsResource {
  private readonly http: DaemonClient;

  constructor(http: DaemonClient) {
    this.http = http;
  }

  list(): Promise<agents.ManagedAgentSnapshot[]> {
    return agents.listAgents(this.http);
  }

  get(agentId: string): Promise<agents.ManagedAgentSnapshot> {
    return agents.getAgent(this.http, agentId);
  }

  summaries(
    query: agents.AgentSummariesQuery = {},
  ): Promise<ListResult<agents.AgentSummaryView> & JsonObject> {
    return agents.agentSummaries(this.http, query);
  }

  /** Spawns a child agent (a sidechain) under `parentAgentId`. */
  spawnSidechain(parentAgentId: string, body: agents.SpawnSidechainRequest): Promise<JsonObject> {
    return agents.spawnSidechain(this.http, parentAgentId, body);
  }

  /** What a spawn would do (policy, quota, tool surface) without spawning. */
  explainSidechain(parentAgentId: string, body: agents.SpawnSidechainRequest): Promise<JsonObject> {
    return agents.explainSidechain(this.http, parentAgentId, body);
  }

  setNickname(agentId: string, nickname: string): Promise<agents.ManagedAgentSnapshot> {
    return agents.renameAgent(this.http, agentId, nickname);
  }

  clearNickname(agentId: string): Promise<agents.ManagedAgentSnapshot> {
    return agents.clearAgentNickname(this.http, agentId);
  }
}

export class MailboxesResource {
  private readonly http: DaemonClient;

  constructor(http: DaemonClient) {
    this.http = http;
  }

  /** Posts a message (202); it is delivered as a `mailbox_delivery` run of the target agent. */
  post(body: mailboxes.PostMailboxRequest): Promise<mailboxes.PostMailboxResponse> {
    return mailboxes.postMailbox(this.http, body);
  }

  /** Queued and in-flight messages of an agent; reading does not drain. */
  peek(agentId: string): Promise<mailboxes.MailboxMessage[]> {
    return mailboxes.peekMailbox(this.http, agentId);
  }

  deadLetters(agentId: string): Promise<mailboxes.MailboxMessage[]> {
    return mailboxes.mailboxDeadLetters(this.http, agentId);
  }

  ack(agentId: string, messageId: string): Promise<mailboxes.AckMailboxResponse> {
    return mailboxes.ackMailboxMessage(this.http, agentId, messageId);
  }
}
