// generate_image, edit_image, generate_audio (api-core §10): a provider's image or speech model
// makes the media, which is then imported as an asset (validated and normalized like any upload)
// and held by the run with a hard `generated_output` reference. The result names the asset ids;
// `emit_output` publishes them to the user.
import { z } from 'zod';
import type { Engine } from '../../engine/engine.ts';
import type { InputItem, StoredRunRequest } from '../../engine/types.ts';
import { getRun, type RunRow } from '../../store/repos/runs.ts';
import { defineControlTool } from '../../tools/control/define-control-tool.ts';
import type { ToolContext, ToolDefinition } from '../../tools/registry.ts';
import type { AssetsPort, AssetView } from '../assets/port.ts';
import { chooseRoute, GeneratorError } from './route-choice.ts';

const Size = z
  .string()
  .regex(/^\d{2,5}x\d{2,5}$/, 'size is WIDTHxHEIGHT, e.g. 1024x1024')
  .optional();
const Count = z.number().int().min(1).max(8).optional().describe('How many images (default 1).');
const Route = {
  provider: z
    .string()
    .min(1)
    .optional()
    .describe('Route id to generate with (default: this run’s route when capable).'),
  model: z.string().min(1).optional().describe('Provider model id (default per provider, e.g. gpt-image-1).'),
};

const GenerateImageArgs = z
  .object({ prompt: z.string().min(1), size: Size, count: Count, ...Route })
  .strict();
const EditImageArgs = z
  .object({
    prompt: z.string().min(1),
    image_asset_ids: z
      .array(z.string().min(1))
      .optional()
      .describe('Images to edit (default: the images of this run’s input).'),
    size: Size,
    count: Count,
    ...Route,
  })
  .strict();
const AUDIO_FORMATS = ['mp3', 'wav', 'pcm', 'opus', 'aac', 'flac'] as const;
const GenerateAudioArgs = z
  .object({
    input: z.string().min(1).max(4096).describe('The text to speak.'),
    instructions: z.string().max(4000).optional(),
    voice: z.string().min(1).optional(),
    format: z.enum(AUDIO_FORMATS).optional(),
    speed: z.number().min(0.25).max(4).optional(),
    ...Route,
  })
  .strict();

const AUDIO_MEDIA: Record<(typeof AUDIO_FORMATS)[number], string> = {
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  pcm: 'audio/pcm',
  opus: 'audio/opus',
  aac: 'audio/aac',
  flac: 'audio/flac',
};

const extOf = (mediaType: string) =>
  mediaType === 'image/jpeg' ? 'jpg' : (mediaType.split('/')[1] ?? 'bin');

export function generatorTools(engine: Engine, assets: () => AssetsPort): ToolDefinition[] {
  const runOf = async (ctx: ToolContext): Promise<RunRow> => {
    const run = await getRun(engine.store.db, ctx.run_id);
    if (!run) throw new GeneratorError(`run ${ctx.run_id} not found`);
    return run;
  };
  /** Imports each result and references it from the run in one transaction. */
  const keep = async (
    run: RunRow,
    files: Array<{ file_name: string; media_type: string; bytes: Uint8Array }>,
    ctx: ToolContext,
  ) => {
    const stored: AssetView[] = [];
    for (const f of files) stored.push(await assets().import(f, ctx.signal));
    await engine.store.write((tx) =>
      assets().addReferences(
        stored.map((a) => ({
          asset_id: a.asset_id,
          domain: 'runs',
          owner_id: run.run_id,
          role: 'generated_output',
          hard: true,
          parent_id: run.session_id,
        })),
        tx.db,
      ),
    );
    return stored.map((a) => ({
      asset_id: a.asset_id,
      media_type: a.media_type,
      file_name: a.file_name,
      byte_length: a.byte_length,
    }));
  };
  const images = async (
    run: RunRow,
    ctx: ToolContext,
    args: { prompt: string; size?: string; count?: number; provider?: string; model?: string },
    flag: 'image_generation' | 'image_edit',
    sources: Uint8Array[] | null,
  ) => {
    const route = await chooseRoute(engine, run, flag, 'image', args);
    const { generateImage } = await import('ai');
    const result = await generateImage({
      model: await route.models.image(route.model),
      prompt: sources ? { images: sources, text: args.prompt } : args.prompt,
      n: args.count ?? 1,
      size: args.size as `${number}x${number}` | undefined,
      abortSignal: ctx.signal,
      maxRetries: 1,
    });
    const stamp = ctx.tool_call_id.replace(/[^A-Za-z0-9_-]/g, '').slice(-12) || 'image';
    const made = await keep(
      run,
      result.images.map((img, i) => ({
        file_name: `${flag === 'image_edit' ? 'edited' : 'generated'}-${stamp}-${i + 1}.${extOf(img.mediaType)}`,
        media_type: img.mediaType,
        bytes: img.uint8Array,
      })),
      ctx,
    );
    return {
      asset_ids: made.map((a) => a.asset_id),
      assets: made,
      route_id: route.route_id,
      model: route.model,
    };
  };

  return [
    defineControlTool(
      'generate_image',
      'Generate images from a text prompt; they are stored as assets and their asset_ids returned (publish them with emit_output).',
      GenerateImageArgs,
      true,
      async (args, ctx) => images(await runOf(ctx), ctx, args, 'image_generation', null),
    ),
    defineControlTool(
      'edit_image',
      'Edit images (assets) following a prompt; the results are stored as new assets and their asset_ids returned.',
      EditImageArgs,
      true,
      async (args, ctx) => {
        const run = await runOf(ctx);
        const explicit = args.image_asset_ids !== undefined;
        const sources: Uint8Array[] = [];
        for (const id of args.image_asset_ids ?? inputAssetIds(run)) {
          const a = await assets().get(id);
          if (!a && explicit) throw new GeneratorError(`asset ${id} does not exist`);
          if (!a?.media_type.startsWith('image/')) {
            if (explicit) throw new GeneratorError(`asset ${id} is ${a?.media_type}, not an image`);
            continue;
          }
          sources.push(await assets().readRaw(id));
        }
        if (sources.length === 0)
          throw new GeneratorError('no image to edit: give image_asset_ids (this run’s input has no image)');
        return images(run, ctx, args, 'image_edit', sources);
      },
    ),
    defineControlTool(
      'generate_audio',
      'Speak a text (text to speech); the audio is stored as an asset and its asset_id returned (publish it with emit_output).',
      GenerateAudioArgs,
      true,
      async (args, ctx) => {
        const run = await runOf(ctx);
        const route = await chooseRoute(engine, run, 'audio_generation', 'speech', args);
        const format = args.format ?? 'mp3';
        const { generateSpeech } = await import('ai');
        const result = await generateSpeech({
          model: await route.models.speech(route.model),
          text: args.input,
          voice: args.voice ?? 'alloy',
          outputFormat: format,
          instructions: args.instructions,
          speed: args.speed,
          abortSignal: ctx.signal,
          maxRetries: 1,
        });
        const stamp = ctx.tool_call_id.replace(/[^A-Za-z0-9_-]/g, '').slice(-12) || 'audio';
        const made = await keep(
          run,
          [
            {
              file_name: `speech-${stamp}.${format}`,
              media_type: AUDIO_MEDIA[format],
              bytes: result.audio.uint8Array,
            },
          ],
          ctx,
        );
        return {
          asset_ids: made.map((a) => a.asset_id),
          assets: made,
          route_id: route.route_id,
          model: route.model,
        };
      },
    ),
  ];
}

/** The assets a run was given (its input items or attachments, in order). */
function inputAssetIds(run: RunRow): string[] {
  const request = JSON.parse(run.request) as StoredRunRequest;
  const items = [...(request.input_items ?? []), ...((request.attachments ?? []) as InputItem[])];
  return items.filter((i) => i.type === 'asset_reference').map((i) => String(i.asset_id));
}
