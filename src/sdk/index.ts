// Public surface of the SDK (`kheish-daemon/sdk`): import from here, not from the individual files.
export type {
  AgentStatus,
  AgentSummariesQuery,
  AgentSummaryView,
  ManagedAgentSnapshot,
  SpawnSidechainRequest,
} from './agents.ts';
export {
  type AssetDeletePlan,
  type AssetGcReport,
  type AssetPayloadFile,
  type AssetRaw,
  type AssetReference,
  type AssetReferencesView,
  type AssetSummaryView,
  AssetsResource,
  type AssetView,
  type ImportAssetRequest,
} from './assets.ts';
export {
  type AccountStatus,
  AuthResource,
  type AuthSubjectStatus,
  type CredentialLeaseStatus,
  type SlotRevocation,
} from './auth.ts';
export {
  type BoardRevisionView,
  BoardsResource,
  type BoardView,
  type CreateBoardRequest,
  type CreateBoardRevisionRequest,
  type UpdateBoardRequest,
} from './boards.ts';
export {
  ChannelStimuliResource,
  type CreateStimulusRequest,
  type StimulusKind,
  type StimulusState,
  type StimulusView,
  type ThreadWorkView,
} from './channel-stimuli.ts';
export {
  type AutonomyPolicy,
  type ChannelDetailView,
  type ChannelLeaseView,
  type ChannelMemberInput,
  type ChannelMemberView,
  type ChannelMessageView,
  type ChannelSummaryView,
  ChannelsResource,
  type CreateChannelRequest,
  type PostChannelMessageRequest,
  type UpdateChannelRequest,
} from './channels.ts';
export {
  type ChatSecretInput,
  type ReplyHandleInput,
  type SlackConnectorSettings,
  slackReplyTarget,
  type TelegramConnectorSettings,
  telegramReplyTarget,
} from './chat-connectors.ts';
export {
  DaemonClient,
  type DaemonClientOptions,
  DEFAULT_BASE_URL,
  DEFAULT_STREAM_IDLE_TIMEOUT_MS,
  DEFAULT_TIMEOUT_MS,
  type QueryValue,
  type RequestOptions,
  type SseStream,
  type StreamCallOptions,
} from './client.ts';
export {
  type ConnectorIngressResult,
  type ConnectorKind,
  type ConnectorSecretInput,
  ConnectorsResource,
  type ConnectorView,
  type SecretMetadata,
} from './connectors.ts';
export {
  DeliveriesResource,
  type DeliveryListQuery,
  type DeliveryStatus,
  type DeliveryView,
  type ReplyHandle,
  type ReplyTargetRequest,
} from './deliveries.ts';
export {
  type CreateDerivationFlags,
  type CreateDerivationRequest,
  type DerivationBackend,
  type DerivationProfile,
  type DerivationSubject,
  DerivationsResource,
  type DerivationView,
  type TranscriptionOptions,
} from './derivations.ts';
export {
  DaemonProblemError,
  DaemonSchemaError,
  DaemonTimeoutError,
  DaemonUnreachableError,
  fallbackCode,
  KheishError,
  type ProblemDocument,
  problemFromResponse,
  RunFailedError,
  RunWaitTimeoutError,
  SseFrameTooLargeError,
} from './errors.ts';
export {
  type CredentialLeaseValue,
  type ExternalBatchItem,
  type ExternalChildStatus,
  ExternalConnectorsResource,
  type ExternalEvent,
  type ExternalEventResult,
} from './external-connectors.ts';
export { isRetryable, type ReconnectInfo, type ResumeOptions, resumeStream } from './follow.ts';
export type { HookDeadLetter, HookDefinition, HookSettings, SetHooksOptions } from './hooks.ts';
export { HooksResource } from './hooks.ts';
export {
  type AnswerOptions,
  type Answers,
  approvalBatch,
  questionResolution,
  type ResolveOptions,
  toQuestionAnswers,
} from './human-loop.ts';
export { assetReference, bytesToBase64, inlineAsset, textItem } from './input-items.ts';
export { Kheish, type KheishEnv, type KheishOptions } from './kheish.ts';
export {
  type LearningSkillStatus,
  LearningSkillsResource,
  type LearningSkillView,
  type PromoteSkillRequest,
  type RolloutResultRequest,
} from './learning-skills.ts';
export {
  type CandidateFilters,
  type CreateLearningCandidateRequest,
  type LearningCandidateView,
  type LearningFilters,
  type LearningKind,
  type LearningScopeKind,
  LearningsResource,
  type LearningView,
  type PublishLearningCandidateRequest,
  type SupersedeLearningRequest,
} from './learnings.ts';
export type {
  AckMailboxResponse,
  MailboxMessage,
  PostMailboxRequest,
  PostMailboxResponse,
} from './mailboxes.ts';
export {
  type AddMcpServerRequest,
  callMcpTool,
  McpResource,
  type McpToolCallResult,
  mcpInventory,
} from './mcp.ts';
export {
  type LearningScopeRef,
  MemoryResource,
  type MemorySearchResult,
  type RecoveredMemoryEntry,
  type RunMemoryPolicy,
  type SessionMemoryContextView,
  type SessionMemorySearchView,
} from './memory.ts';
export {
  type CaptureAgentView,
  type CaptureAlertView,
  type CreateSourceRequest,
  type MaterializationRequest,
  type ObservationAuditRecord,
  type ObservationListQuery,
  type ObservationScheduleRequest,
  type ObservationSelection,
  type ObservationSourceView,
  ObservationsResource,
  type ObservationView,
  type ProvisionRequest,
  type ProvisionResponse,
  type UploadObservationRequest,
} from './observations.ts';
export {
  type CapabilityScope,
  type CreatePersonaRequest,
  type PersonaSummaryView,
  PersonasResource,
  type PersonaView,
  type SessionPersonaSummary,
  type UpdatePersonaRequest,
} from './personas.ts';
export {
  type EvidenceRef,
  type FlowStatus,
  FlowsResource,
  type FlowView,
  type ManifestValidation,
  type PlaybookManifest,
  type PlaybookRef,
  type PlaybookReleaseStatus,
  PlaybooksResource,
  type PlaybookVersionView,
  type PlaybookView,
  type ProductViewVerdict,
  type StartFlowRequest,
  type VerifyProductViewRequest,
} from './playbooks.ts';
export {
  type CreateProjectRequest,
  type CreateProjectTaskRequest,
  type ProjectChannelLinkInput,
  type ProjectChannelLinkView,
  type ProjectEventView,
  type ProjectMemberInput,
  type ProjectMemberView,
  type ProjectStatus,
  ProjectsResource,
  type ProjectTaskStatus,
  type ProjectTaskView,
  type ProjectView,
  type StartProjectTaskRequest,
  type TaskAssignment,
  type UpdateProjectRequest,
  type UpdateProjectTaskRequest,
} from './projects.ts';
export {
  type AddRouteRequest,
  type AddRouteResult,
  type DeleteRouteResult,
  EventsResource,
  type RawRequestOptions,
  RawResource,
  RuntimeResource,
  SecretsResource,
} from './resources-admin.ts';
export { ApprovalsResource, QuestionsResource } from './resources-human.ts';
export {
  type CreateResponseParams,
  ResponsesResource,
  RunsResource,
  SessionsResource,
  type StreamOptions,
} from './resources-runs.ts';
export { AgentsResource, MailboxesResource, SchedulesResource, TasksResource } from './resources-work.ts';
export { Route, type RouteLike, type RouteSpec, routeFields } from './route.ts';
export {
  type DebugArtifactSummary,
  RunDebugResource,
  type RunDebugView,
  type RunRetentionPruneRequest,
  type RunRetentionPruneResponse,
} from './run-debug.ts';
export {
  type ApproveOptions,
  BlockedRun,
  outputText,
  type RunAnswerOptions,
  RunHandle,
  type RunResult,
  type WaitOptions,
} from './run-handle.ts';
export { RUN_START_CURSOR, type RunWatchOptions, type WatchOptions, watchRun } from './run-watch.ts';
export type {
  ScheduleCadence,
  ScheduleCreateRequest,
  ScheduleExecution,
  ScheduleListQuery,
  ScheduleStatus,
  ScheduleView,
} from './schedules.ts';
export {
  type SkillRuntime,
  type SkillScope,
  type SkillSummaryView,
  SkillsResource,
  type SkillView,
} from './skills.ts';
export {
  MAX_SSE_FRAME_BYTES,
  parseSseStream,
  SseParser,
  type SseParserOptions,
  type StreamEventsOptions,
  streamEvents,
} from './sse.ts';
export type {
  TaskListQuery,
  TaskOutputQuery,
  TaskOutputView,
  TaskRecord,
  TaskStatus,
} from './tasks.ts';
export * from './types.ts';
