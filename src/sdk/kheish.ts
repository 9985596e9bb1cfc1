// The SDK's entry point: one client object with a resource per API domain, shaped like Kheish's
// official TypeScript SDK (`Kheish.fromEnv()`, `client.responses.create(...)`, `run.wait(...)`).
// Portable: it needs only fetch, AbortController/AbortSignal, TextDecoder and ReadableStream.

import { AssetsResource } from './assets.ts';
import { AuthResource } from './auth.ts';
import { BoardsResource } from './boards.ts';
import { ChannelStimuliResource } from './channel-stimuli.ts';
import { ChannelsResource } from './channels.ts';
import { DaemonClient, DEFAULT_BASE_URL } from './client.ts';
import { ConnectorsResource } from './connectors.ts';
import { DeliveriesResource } from './deliveries.ts';
import { DerivationsResource } from './derivations.ts';
import { ExternalConnectorsResource } from './external-connectors.ts';
import { HooksResource } from './hooks.ts';
import { LearningSkillsResource } from './learning-skills.ts';
import { LearningsResource } from './learnings.ts';
import { McpResource } from './mcp.ts';
import { MemoryResource } from './memory.ts';
import { ObservationsResource } from './observations.ts';
import { PersonasResource } from './personas.ts';
import { FlowsResource, PlaybooksResource } from './playbooks.ts';
import { ProjectsResource } from './projects.ts';
import { EventsResource, RawResource, RuntimeResource, SecretsResource } from './resources-admin.ts';
import { ApprovalsResource, QuestionsResource } from './resources-human.ts';
import { ResponsesResource, RunsResource, SessionsResource } from './resources-runs.ts';
import { AgentsResource, MailboxesResource, SchedulesResource, TasksResource } from './resources-work.ts';
import { SkillsResource } from './skills.ts';

export interface KheishOptions {
  /** The daemon's URL; `http://127.0.0.1:4000` by default. */
  baseUrl?: string;
  /** Bearer token, when the daemon has control-plane auth on. */
  token?: string;
  /** The fetch to use (a proxy, a recorder, a polyfill); the global fetch by default. */
  fetch?: typeof fetch;
  /** Per-request timeout in ms (30 s by default); 0 disables. Streams and waits are not bound by it. */
  timeoutMs?: number;
  /** A stream silent (not even a heartbeat) this long counts as dropped and is reconnected. */
  streamIdleTimeoutMs?: number;
}

export type KheishEnv = Record<string, string | undefined>;

/** `process.env` where there is one (Node, Deno, Bun); nothing in a browser. */
function ambientEnv(): KheishEnv {
  const proc = (globalThis as { process?: { env?: KheishEnv } }).process;
  return proc?.env ?? {};
}

export class Kheish {
  /** The HTTP transport and its one-method-per-endpoint calls (what the CLI uses). */
  readonly http: DaemonClient;
  /** Submit a prompt and get a run handle. */
  readonly responses: ResponsesResource;
  readonly sessions: SessionsResource;
  readonly runs: RunsResource;
  readonly approvals: ApprovalsResource;
  readonly questions: QuestionsResource;
  readonly tasks: TasksResource;
  readonly schedules: SchedulesResource;
  readonly agents: AgentsResource;
  readonly mailboxes: MailboxesResource;
  readonly runtime: RuntimeResource;
  readonly hooks: HooksResource;
  readonly secrets: SecretsResource;
  readonly skills: SkillsResource;
  /** Persona records and session bindings. */
  readonly personas: PersonasResource;
  /** Session memory projection and search, and the recovered run-memory policy. */
  readonly memory: MemoryResource;
  /** Projects, members, linked channels and project tasks (start = a run in the assignee's session). */
  readonly projects: ProjectsResource;
  /** Boards and their linear revisions (render + state assets). */
  readonly boards: BoardsResource;
  /** Learning candidates, published learnings and the automation policy. */
  readonly learnings: LearningsResource;
  /** Promoted procedural skills: promote, rollout evidence, revoke, rollback. */
  readonly learningSkills: LearningSkillsResource;
  readonly playbooks: PlaybooksResource;
  readonly flows: FlowsResource;
  /** Stored files (uploads, run attachments): views, references, raw bytes, delete and GC. */
  readonly assets: AssetsResource;
  /** Observation sources, uploads, capture agents and materialization. */
  readonly observations: ObservationsResource;
  readonly connectors: ConnectorsResource;
  /** Session reply targets and the output delivery queue. */
  readonly deliveries: DeliveriesResource;
  /** Loaded MCP servers and operator tool calls. */
  readonly mcp: McpResource;
  /** Canonical text and visual previews of assets, observations and session input. */
  readonly derivations: DerivationsResource;
  /** The credential broker and accounts (/v1/runtime/auth). */
  readonly auth: AuthResource;
  /** External connector sidecars: event ingress, credential fetches, child status. */
  readonly externalConnectors: ExternalConnectorsResource;
  /** Public conversations with turn leases (api-collab §1). */
  readonly channels: ChannelsResource;
  /** Channel stimuli and thread-work (api-collab §1.8, §1.9). */
  readonly channelStimuli: ChannelStimuliResource;
  readonly events: EventsResource;
  readonly raw: RawResource;

  constructor(opts: KheishOptions = {}) {
    const http = new DaemonClient(opts);
    this.http = http;
    this.responses = new ResponsesResource(http);
    this.sessions = new SessionsResource(http);
    this.runs = new RunsResource(http);
    this.approvals = new ApprovalsResource(http);
    this.questions = new QuestionsResource(http);
    this.tasks = new TasksResource(http);
    this.schedules = new SchedulesResource(http);
    this.agents = new AgentsResource(http);
    this.mailboxes = new MailboxesResource(http);
    this.runtime = new RuntimeResource(http);
    this.hooks = new HooksResource(http);
    this.secrets = new SecretsResource(http);
    this.skills = new SkillsResource(http);
    this.personas = new PersonasResource(http);
    this.memory = new MemoryResource(http);
    this.projects = new ProjectsResource(http);
    this.boards = new BoardsResource(http);
    this.learnings = new LearningsResource(http);
    this.learningSkills = new LearningSkillsResource(http);
    this.playbooks = new PlaybooksResource(http);
    this.flows = new FlowsResource(http);
    this.assets = new AssetsResource(http);
    this.observations = new ObservationsResource(http);
    this.connectors = new ConnectorsResource(http);
    this.deliveries = new DeliveriesResource(http);
    this.mcp = new McpResource(http);
    this.derivations = new DerivationsResource(http);
    this.auth = new AuthResource(http);
    this.externalConnectors = new ExternalConnectorsResource(http);
    this.channels = new ChannelsResource(http);
    this.channelStimuli = new ChannelStimuliResource(http);
    this.events = new EventsResource(http);
    this.raw = new RawResource(http);
  }

  /**
   * A client configured by `KHEISH_BASE_URL` (default `http://127.0.0.1:4000`) and `KHEISH_TOKEN`,
   * read from `env` (by default `process.env` where it exists; pass your own in a browser).
   */
  static fromEnv(env: KheishEnv = ambientEnv(), opts: Omit<KheishOptions, 'baseUrl' | 'token'> = {}): Kheish {
    return new Kheish({
      ...opts,
      baseUrl: env.KHEISH_BASE_URL || DEFAULT_BASE_URL,
      token: env.KHEISH_TOKEN || undefined,
    });
  }

  get baseUrl(): string {
    return this.http.baseUrl;
  }
}
