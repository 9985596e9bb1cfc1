// `emit_output` (api-core §10, §3.7): the agent publishes an output of its own — text, files it
// holds as assets, artifacts — as a DaemonOutputRecord with source_kind `emit_output`. Asset parts
// are persisted as `attachment` parts naming the asset (never bytes), and the run holds a hard
// `output_attachment` reference on each, written in the output's own transaction.
import { z } from 'zod';
import type { Engine } from '../../engine/engine.ts';
import { persistOutput } from '../../engine/finalize.ts';
import type { StoredRunRequest } from '../../engine/types.ts';
import { getRun } from '../../store/repos/runs.ts';
import { defineControlTool } from '../../tools/control/define-control-tool.ts';
import type { ToolDefinition } from '../../tools/registry.ts';
import type { AssetsPort, AssetView } from '../assets/port.ts';
import { assetNotFound } from './input-assets.ts';

const Part = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text'), text: z.string() }).strict(),
  z.object({ type: z.literal('asset'), asset_id: z.string().min(1) }).strict(),
]);

const EmitOutputArgs = z
  .object({
    content: z
      .string()
      .optional()
      .describe('Plain text of the output (also the fallback for text-only readers).'),
    parts: z
      .array(Part)
      .optional()
      .describe('Ordered parts: {type:"text",text} or {type:"asset",asset_id} for a file the daemon holds.'),
    artifact_ids: z.array(z.string().min(1)).optional().describe('Assets published alongside as artifacts.'),
    include_artifacts_inline: z
      .boolean()
      .optional()
      .describe('Also list the artifacts as attachment parts after the other parts.'),
  })
  .strict()
  .refine(
    (a) => (a.content ?? '') !== '' || (a.parts?.length ?? 0) > 0 || (a.artifact_ids?.length ?? 0) > 0,
    {
      message: 'give at least one of content, parts or artifact_ids',
    },
  );

type Attachment = { id: string; media_type: string; file_name: string };
const attachmentOf = (a: AssetView): Attachment => ({
  id: a.asset_id,
  media_type: a.media_type,
  file_name: a.file_name,
});

export function emitOutputTool(engine: Engine, assets: () => AssetsPort): ToolDefinition {
  return defineControlTool(
    'emit_output',
    'Publish an output to the user now: text and/or files the daemon holds as assets (by asset_id), plus artifacts. Use it to deliver generated images, audio or documents.',
    EmitOutputArgs,
    true,
    async (args, ctx) => {
      const lookup = async (id: string) => {
        const a = await assets().get(id);
        if (!a) throw assetNotFound(id);
        return attachmentOf(a);
      };
      const parts: Array<Record<string, unknown>> = [];
      for (const p of args.parts ?? (args.content ? [{ type: 'text' as const, text: args.content }] : [])) {
        if (p.type === 'text') parts.push({ type: 'text', text: p.text });
        else parts.push({ type: 'attachment', attachment: await lookup(p.asset_id) });
      }
      const artifacts: Attachment[] = [];
      for (const id of args.artifact_ids ?? []) artifacts.push(await lookup(id));
      if (args.include_artifacts_inline)
        for (const a of artifacts) parts.push({ type: 'attachment', attachment: a });
      const content = args.content ?? fallbackText(parts);
      const attached = [
        ...new Set([
          ...parts.flatMap((p) => (p.type === 'attachment' ? [(p.attachment as Attachment).id] : [])),
          ...artifacts.map((a) => a.id),
        ]),
      ];

      await engine.store.write(async (tx) => {
        const run = await getRun(tx.db, ctx.run_id);
        if (!run) throw new Error(`run ${ctx.run_id} not found`);
        const request = JSON.parse(run.request) as StoredRunRequest;
        const record: Record<string, unknown> = {
          session_id: run.session_id,
          run_id: run.run_id,
          plugin: request.source_plugin,
          address: request.actor_id,
          content,
          parts,
          artifacts,
          source_kind: 'emit_output',
        };
        // Through the engine's one output path: the output hooks (deliveries) run in this transaction.
        await persistOutput(engine, tx, run, record);
        if (attached.length > 0)
          await assets().addReferences(
            attached.map((asset_id) => ({
              asset_id,
              domain: 'runs',
              owner_id: run.run_id,
              role: 'output_attachment',
              hard: true,
              parent_id: run.session_id,
            })),
            tx.db,
          );
      });
      return {
        emitted: true,
        parts: parts.length,
        attachment_ids: attached,
        artifact_count: artifacts.length,
      };
    },
  );
}

/** The plain-text fallback of an output without `content`: its text, then a line per file. */
function fallbackText(parts: Array<Record<string, unknown>>): string {
  return parts
    .map((p) =>
      p.type === 'text'
        ? String(p.text)
        : `[attachment ${(p.attachment as Attachment).file_name} (${(p.attachment as Attachment).id})]`,
    )
    .join('\n');
}
