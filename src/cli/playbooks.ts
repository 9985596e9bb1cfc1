// `playbooks` and `flows` (api-collab §3.8, docs/playbooks.md): the manifest catalog and Flows.
// Each command is one SDK call; `flows stream` follows the root run's events until Ctrl-C.
import type { Command } from 'commander';
import {
  type EvidenceRef,
  FlowsResource,
  type FlowView,
  type PlaybookManifest,
  PlaybooksResource,
  type PlaybookView,
} from '../sdk/playbooks.ts';
import type { JsonObject } from '../sdk/types.ts';
import { jsonInput } from './approvals.ts';
import { EXIT, UsageError } from './errors.ts';
import { followFrames } from './events.ts';
import { keyValues, table, time } from './format.ts';
import { eventCursor } from './parse.ts';
import type { CliRuntime } from './runtime.ts';

function renderPlaybook(p: PlaybookView): string[] {
  return [
    ...keyValues([
      ['playbook', p.playbook_id],
      ['title', p.selected_version.manifest.title],
      ['latest', p.latest_version],
      ['active', p.active_version ?? '-'],
    ]),
    '',
    ...table(
      ['VERSION', 'STATUS', 'DIGEST', 'UPDATED'],
      p.versions.map((v) => [v.version, v.status, v.digest, time(v.updated_at_ms) ?? '-']),
    ),
  ];
}

function renderFlow(f: FlowView): string[] {
  const missing = f.contract.checks.filter((c) => !c.passed).map((c) => `${c.name}: ${c.details}`);
  return keyValues([
    ['flow', f.flow_id],
    ['status', f.status],
    ['playbook', `${f.playbook_ref.playbook_id}@${f.playbook_ref.version}`],
    ['session', f.session_id],
    ['run', f.run_id ? `${f.run_id} (${f.run?.status ?? 'missing'})` : '-'],
    ['contract', f.contract.passed ? 'passed' : missing.join('; ')],
    ['evidence', f.evidence_refs.map((e) => `${e.kind}:${e.id}`).join(', ') || '-'],
  ]);
}

async function manifestFrom(rt: CliRuntime, file: string): Promise<PlaybookManifest> {
  const m = await jsonInput(rt, undefined, file, 'manifest');
  if (!m || typeof m !== 'object' || Array.isArray(m))
    throw new UsageError('the manifest must be a JSON object');
  return m as PlaybookManifest;
}

async function evidenceFrom(rt: CliRuntime, text: string | undefined): Promise<EvidenceRef[] | undefined> {
  const v = await jsonInput(rt, text, undefined, 'evidence-refs');
  if (v !== undefined && !Array.isArray(v)) throw new UsageError('--evidence-refs-json must be a JSON array');
  return v as EvidenceRef[] | undefined;
}

export function registerPlaybooks(program: Command, rt: CliRuntime): void {
  const playbooks = program
    .command('playbooks')
    .alias('playbook')
    .description('playbook manifests and releases');
  const pb = () => new PlaybooksResource(rt.client());

  playbooks
    .command('validate')
    .description('structural validation of a manifest (nothing stored); exit 1 when invalid')
    .requiredOption('--manifest-file <path>', 'the manifest (JSON; - for stdin)')
    .action(async (f: { manifestFile: string }) => {
      const res = await pb().validate(await manifestFrom(rt, f.manifestFile));
      rt.emit(res, (r) => [
        r.valid ? `valid, digest ${r.digest}` : 'invalid',
        ...r.errors.map((e) => `error: ${e}`),
        ...r.warnings.map((w) => `warning: ${w}`),
      ]);
      if (!res.valid) rt.exitCode = EXIT.failure;
    });

  playbooks
    .command('create')
    .description('store an immutable version (idempotent on the digest)')
    .requiredOption('--manifest-file <path>', 'the manifest (JSON; - for stdin)')
    .action(async (f: { manifestFile: string }) =>
      rt.emit(await pb().create(await manifestFrom(rt, f.manifestFile)), (p) => [
        `digest ${p.selected_version.digest}`,
        ...renderPlaybook(p),
      ]),
    );

  playbooks
    .command('list')
    .option('--query <text>', 'substring of the id, title, objective or digest')
    .option('--status <status>', 'a release status')
    .action(async (f: { query?: string; status?: 'active' }) =>
      rt.emit(await pb().list({ query: f.query, status: f.status }), (items) =>
        items.length
          ? table(
              ['PLAYBOOK', 'LATEST', 'ACTIVE', 'TITLE'],
              items.map((p) => [
                p.playbook_id,
                p.latest_version,
                p.active_version ?? '-',
                p.selected_version.manifest.title,
              ]),
            )
          : ['no playbooks'],
      ),
    );

  playbooks
    .command('get')
    .argument('<playbook_id>')
    .action(async (id: string) => rt.emit(await pb().get(id), renderPlaybook));

  playbooks
    .command('publish')
    .argument('<playbook_id>')
    .requiredOption('--version <version>')
    .requiredOption('--digest <digest>')
    .option('--status <status>', 'verified | canary | active (default active)')
    .requiredOption(
      '--evidence-refs-json <json>',
      'evidence (a non-empty JSON array of {kind,id,description})',
    )
    .action(
      async (
        id: string,
        f: { version: string; digest: string; status?: 'active'; evidenceRefsJson: string },
      ) => {
        const evidence_refs = (await evidenceFrom(rt, f.evidenceRefsJson)) ?? [];
        rt.emit(
          await pb().publish(id, {
            version: f.version,
            digest: f.digest,
            ...(f.status ? { status: f.status } : {}),
            evidence_refs,
          }),
          renderPlaybook,
        );
      },
    );

  playbooks
    .command('revoke')
    .argument('<playbook_id>')
    .requiredOption('--version <version>')
    .requiredOption('--digest <digest>')
    .option('--reason <text>')
    .option('--evidence-refs-json <json>')
    .action(
      async (
        id: string,
        f: { version: string; digest: string; reason?: string; evidenceRefsJson?: string },
      ) => {
        const evidence = await evidenceFrom(rt, f.evidenceRefsJson);
        rt.emit(
          await pb().revoke(id, {
            version: f.version,
            digest: f.digest,
            ...(f.reason !== undefined ? { reason: f.reason } : {}),
            ...(evidence ? { evidence_refs: evidence } : {}),
          }),
          renderPlaybook,
        );
      },
    );

  registerFlows(program, rt);
}

const many = (value: string, previous: string[] = []) => [...previous, value];

function registerFlows(program: Command, rt: CliRuntime): void {
  const flows = program.command('flows').alias('flow').description('flows started from playbooks');
  const api = () => new FlowsResource(rt.client());

  flows
    .command('start')
    .description('start a Flow: the request file is a normal run submit body')
    .option('--flow-id <id>')
    .option('--idempotency-key <key>')
    .requiredOption('--playbook-id <id>')
    .requiredOption('--version <version>')
    .requiredOption('--digest <digest>')
    .requiredOption('--session-id <id>')
    .requiredOption('--request-file <path>', 'the SubmitInputRequest (JSON; - for stdin)')
    .option('--metadata-json <json>', 'Flow metadata (a JSON object)')
    .option('--evidence-refs-json <json>', 'initial evidence (a JSON array)')
    .action(
      async (f: {
        flowId?: string;
        idempotencyKey?: string;
        playbookId: string;
        version: string;
        digest: string;
        sessionId: string;
        requestFile: string;
        metadataJson?: string;
        evidenceRefsJson?: string;
      }) => {
        const request = await jsonInput(rt, undefined, f.requestFile, 'request');
        if (!request || typeof request !== 'object' || Array.isArray(request))
          throw new UsageError('the request must be a JSON object');
        const metadata = await jsonInput(rt, f.metadataJson, undefined, 'metadata');
        const evidence = await evidenceFrom(rt, f.evidenceRefsJson);
        const view = await api().start({
          ...(f.flowId ? { flow_id: f.flowId } : {}),
          ...(f.idempotencyKey ? { idempotency_key: f.idempotencyKey } : {}),
          playbook_ref: { playbook_id: f.playbookId, version: f.version, digest: f.digest },
          session_id: f.sessionId,
          request: request as JsonObject,
          ...(metadata !== undefined ? { metadata: metadata as JsonObject } : {}),
          ...(evidence ? { evidence_refs: evidence } : {}),
        });
        rt.emit(view, renderFlow);
      },
    );

  flows
    .command('list')
    .option('--playbook-id <id>')
    .option('--session-id <id>')
    .option('--status <status>', 'a derived Flow status')
    .action(async (f: { playbookId?: string; sessionId?: string; status?: 'running' }) =>
      rt.emit(
        await api().list({ playbook_id: f.playbookId, session_id: f.sessionId, status: f.status }),
        (items) =>
          items.length
            ? table(
                ['FLOW', 'STATUS', 'PLAYBOOK', 'SESSION', 'RUN'],
                items.map((x) => [
                  x.flow_id,
                  x.status,
                  `${x.playbook_ref.playbook_id}@${x.playbook_ref.version}`,
                  x.session_id,
                  x.run_id ?? '-',
                ]),
              )
            : ['no flows'],
      ),
    );

  flows
    .command('get')
    .argument('<flow_id>')
    .action(async (id: string) => rt.emit(await api().get(id), renderFlow));

  flows
    .command('cancel')
    .description('cancel the root run (a terminal root run stays as it is)')
    .argument('<flow_id>')
    .action(async (id: string) => rt.emit(await api().cancel(id), renderFlow));

  flows
    .command('evidence')
    .description('append evidence (idempotent by kind + id)')
    .argument('<flow_id>')
    .requiredOption('--evidence-refs-json <json>', 'a JSON array of {kind,id,description}')
    .action(async (id: string, f: { evidenceRefsJson: string }) => {
      const refs = await evidenceFrom(rt, f.evidenceRefsJson);
      if (!refs?.length) throw new UsageError('give at least one evidence ref');
      rt.emit(await api().appendEvidence(id, refs), renderFlow);
    });

  flows
    .command('verify-product-view')
    .description('check a report file and the tools the Flow used; exit 1 when a check fails')
    .argument('<flow_id>')
    .requiredOption('--report-path <path>', 'the report, a path inside the workspace')
    .option('--required-section <heading>', 'a Markdown heading the report must have (repeatable)', many)
    .option('--forbidden-tool <name>', 'a tool no run in the Flow may have called (repeatable)', many)
    .action(
      async (id: string, f: { reportPath: string; requiredSection?: string[]; forbiddenTool?: string[] }) => {
        const res = await api().verifyProductView(id, {
          report_path: f.reportPath,
          ...(f.requiredSection ? { required_sections: f.requiredSection } : {}),
          ...(f.forbiddenTool ? { forbidden_tools: f.forbiddenTool } : {}),
        });
        rt.emit(res, (r) => [
          `${r.flow_id}: ${r.passed ? 'passed' : 'failed'}`,
          ...r.checks.map((c) => `${c.passed ? 'ok  ' : 'FAIL'} ${c.name}: ${c.details}`),
        ]);
        if (!res.passed) rt.exitCode = EXIT.failure;
      },
    );

  flows
    .command('stream')
    .alias('watch')
    .description("follow the root run's events until Ctrl-C")
    .argument('<flow_id>')
    .option('--cursor <n>', 'replay events after this event id first', eventCursor)
    .action(async (id: string, flags: { cursor?: string }) => {
      const client = api();
      await followFrames(
        rt,
        ({ cursor, signal, onOpen }) => client.stream(id, { cursor, signal, onOpen }),
        flags.cursor,
      );
    });
}
