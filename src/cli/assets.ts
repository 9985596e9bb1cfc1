// `assets` (api-core §7): import a file, list, get, refs, raw bytes, delete (or plan it), gc. Each
// is one call of /v1/assets through the SDK.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import {
  type AssetDeletePlan,
  type AssetGcReport,
  type AssetReferencesView,
  type AssetSummaryView,
  AssetsResource,
  type AssetView,
} from '../sdk/assets.ts';
import { itemsOf } from '../sdk/types.ts';
import { UsageError } from './errors.ts';
import { keyValues, oneLine, table, time } from './format.ts';
import { nonEmpty, positiveInt } from './parse.ts';
import type { CliRuntime } from './runtime.ts';

const size = (n: number | null | undefined): string | undefined =>
  n === null || n === undefined ? undefined : `${n} bytes`;

export function renderAsset(a: AssetView): string[] {
  return keyValues([
    ['asset', a.asset_id],
    ['file', a.file_name],
    ['media type', a.media_type],
    ['size', size(a.byte_length)],
    ['sha256', a.sha256],
    ['created', time(a.created_at_ms)],
    ['text', a.text_uri ? `${a.text_uri} (${size(a.text_byte_length)})` : undefined],
    [
      'preview',
      a.preview_image_uri
        ? `${a.preview_image_uri} (${a.preview_image_media_type}, ${size(a.preview_image_byte_length)})`
        : undefined,
    ],
    ['derivations', a.derivation_ids.length ? a.derivation_ids.join(', ') : undefined],
  ]);
}

const renderList = (list: AssetSummaryView[]) =>
  list.length === 0
    ? ['no assets']
    : table(
        ['ASSET', 'MEDIA TYPE', 'BYTES', 'CREATED', 'FILE'],
        list.map((a) => [
          a.asset_id,
          a.media_type,
          String(a.byte_length),
          time(a.created_at_ms) ?? '-',
          oneLine(a.file_name, 50),
        ]),
      );

function renderRefs(r: AssetReferencesView): string[] {
  const head = [`${r.asset_id}: ${r.hard_reference_count} hard, ${r.soft_reference_count} soft reference(s)`];
  if (!r.references.length) return head;
  return [
    ...head,
    ...table(
      ['DOMAIN', 'OWNER', 'ROLE', 'HARD', 'PARENT', 'DETAIL'],
      r.references.map((x) => [
        x.domain,
        x.owner_id,
        x.role,
        x.hard ? 'yes' : 'no',
        x.parent_id ?? '-',
        x.detail_id ?? '-',
      ]),
    ),
  ];
}

function renderPlan(p: AssetDeletePlan): string[] {
  const verdict = p.deleted ? 'deleted' : p.blocked ? 'blocked by hard references' : 'can be deleted';
  return [
    `${p.asset_id}: ${verdict}${p.dry_run ? ' (dry run)' : ''}`,
    ...keyValues([
      ['reclaimable', size(p.reclaimable_bytes)],
      ['files', p.removable_files.map((f) => `${f.kind} ${f.location}`).join(', ') || undefined],
      ['shared (kept)', p.shared_files.map((f) => `${f.kind} ${f.location}`).join(', ') || undefined],
      ['references', `${p.hard_reference_count} hard, ${p.soft_reference_count} soft`],
    ]),
  ];
}

function renderGc(r: AssetGcReport): string[] {
  return [
    r.dry_run ? 'asset GC plan (dry run; --execute to apply)' : 'asset GC done',
    ...keyValues([
      [
        r.dry_run ? 'would delete' : 'deleted',
        String(r.dry_run ? r.candidate_asset_ids.length : r.deleted_asset_ids.length),
      ],
      ['blocked', String(r.blocked.length)],
      ['orphan payloads', String(r.orphan_payloads.length)],
      [r.dry_run ? 'reclaimable' : 'reclaimed', size(r.dry_run ? r.reclaimable_bytes : r.reclaimed_bytes)],
    ]),
  ];
}

export function registerAssets(program: Command, rt: CliRuntime): void {
  const assets = program
    .command('assets')
    .alias('asset')
    .description('stored files (uploads, run attachments): import, inspect, read, delete, gc');
  const api = () => new AssetsResource(rt.client());

  assets
    .command('import')
    .description('store a file (identical bytes of the same media type return the existing asset)')
    .argument('<path>')
    .option('--media-type <type>', 'declared media type (default text/plain)', nonEmpty)
    .option('--file-name <name>', 'name to record (default: the file name of <path>)', nonEmpty)
    .action(async (path: string, f: { mediaType?: string; fileName?: string }) => {
      let content: Uint8Array;
      try {
        content = readFileSync(path);
      } catch (err) {
        throw new UsageError(`cannot read ${path} (${(err as NodeJS.ErrnoException).code})`);
      }
      const view = await api().import({
        file_name: f.fileName ?? basename(path),
        ...(f.mediaType ? { media_type: f.mediaType } : {}),
        content,
      });
      rt.emit(view, renderAsset);
    });

  assets
    .command('list')
    .description('list assets (legacy array; --page or --cursor for the paginated envelope)')
    .option('--query <text>', 'only assets whose id, file name, media type, digest or derivation contain it')
    .option('--page', 'return the paginated envelope')
    .option('--limit <n>', 'at most n assets (max 100)', positiveInt)
    .option('--cursor <cursor>', 'continue after this page cursor')
    .action(async (f: { query?: string; page?: boolean; limit?: number; cursor?: string }) => {
      const result = await api().list({ query: f.query, page: f.page, limit: f.limit, cursor: f.cursor });
      rt.emit(result, (r) => renderList(itemsOf(r)));
    });

  assets
    .command('get')
    .alias('show')
    .description('show one asset')
    .argument('<asset_id>')
    .action(async (id: string) => rt.emit(await api().get(id), renderAsset));

  assets
    .command('refs')
    .alias('references')
    .description('what holds the asset (hard references block deletion)')
    .argument('<asset_id>')
    .action(async (id: string) => rt.emit(await api().references(id), renderRefs));

  assets
    .command('raw')
    .description('the exact stored bytes (admin token), to standard output or -o <file>')
    .argument('<asset_id>')
    .option('-o, --out <file>', 'write the bytes to this file')
    .action(async (id: string, f: { out?: string }) => {
      const raw = await api().raw(id);
      if (f.out) {
        writeFileSync(f.out, raw.bytes);
        rt.emit(
          { asset_id: id, media_type: raw.media_type, byte_length: raw.bytes.byteLength, out: f.out },
          (r) => [`wrote ${r.byte_length} bytes (${r.media_type}) to ${r.out}`],
        );
      } else if (rt.io.stdoutBytes) rt.io.stdoutBytes(raw.bytes);
      else rt.io.stdout(new TextDecoder().decode(raw.bytes));
    });

  assets
    .command('delete')
    .description('delete an asset no hard reference holds (--dry-run: show the plan only)')
    .argument('<asset_id>')
    .option('--dry-run', 'show what would be removed, change nothing')
    .action(async (id: string, f: { dryRun?: boolean }) =>
      rt.emit(await api().delete(id, { dry_run: !!f.dryRun }), renderPlan),
    );

  assets
    .command('gc')
    .description('plan (default) or --execute the deletion of unreferenced assets and orphan payloads')
    .option('--execute', 'apply the plan')
    .action(async (f: { execute?: boolean }) => rt.emit(await api().gc({ dry_run: !f.execute }), renderGc));
}
