// Reply-target requests (api-core §3.4) → normalized ReplyHandles. A structured variant (tag
// `type`) is converted by the plugin that claims it; `raw` and bare `{plugin, address}` handles are
// checked by their plugin. Unknown plugins and types are refused, so nothing is stored that no
// plugin could send.
import { createHash } from 'node:crypto';
import { invalidTarget } from './http-plugin.ts';
import type { OutputPlugin, ReplyHandle } from './port.ts';

/** More targets than this on one session or run is refused (docs/decisions.md #283). */
export const MAX_REPLY_TARGETS = 16;

export async function normalizeTargets(
  plugins: ReadonlyMap<string, OutputPlugin>,
  requests: unknown[],
): Promise<ReplyHandle[]> {
  if (requests.length > MAX_REPLY_TARGETS)
    throw invalidTarget(`at most ${MAX_REPLY_TARGETS} reply targets may be given, not ${requests.length}`);
  const out: ReplyHandle[] = [];
  const seen = new Set<string>();
  for (const [i, request] of requests.entries()) {
    const handle = await normalizeOne(plugins, request, i);
    const key = `${handle.plugin}\n${handle.address}`;
    // The same target twice would send every output twice.
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(handle);
  }
  return out;
}

async function normalizeOne(
  plugins: ReadonlyMap<string, OutputPlugin>,
  request: unknown,
  i: number,
): Promise<ReplyHandle> {
  if (typeof request !== 'object' || request === null || Array.isArray(request))
    throw invalidTarget(`reply_targets[${i}] must be an object`);
  const r = request as Record<string, unknown>;
  const type = r.type;
  if (type === undefined || type === 'raw') {
    if (typeof r.plugin !== 'string' || r.plugin === '' || typeof r.address !== 'string')
      throw invalidTarget(`reply_targets[${i}] needs a plugin and a string address (or a structured type)`);
    const plugin = plugins.get(r.plugin);
    if (!plugin) throw invalidTarget(`reply_targets[${i}]: no output plugin named ${r.plugin} is available`);
    await plugin.validateAddress(r.address);
    return { plugin: r.plugin, address: r.address };
  }
  if (typeof type !== 'string') throw invalidTarget(`reply_targets[${i}].type must be a string`);
  // The plugin named like the type first, then any plugin that knows the variant.
  const ordered = [plugins.get(type), ...plugins.values()].filter((p): p is OutputPlugin => p !== undefined);
  for (const plugin of ordered) {
    const handle = plugin.fromStructured?.(r);
    if (!handle) continue;
    await plugins.get(handle.plugin)?.validateAddress(handle.address);
    return handle;
  }
  throw invalidTarget(`reply_targets[${i}]: no output plugin handles reply targets of type ${type}`);
}

/** What views show instead of the address: sha256 over plugin and address. */
export function targetDigest(handle: ReplyHandle): string {
  return createHash('sha256')
    .update(`kheish-reply-target-v1\n${handle.plugin}\n${handle.address}`)
    .digest('hex');
}

/** Parses stored handles (session defaults, run snapshots); anything malformed is dropped. */
export function storedHandles(value: unknown): ReplyHandle[] {
  if (!Array.isArray(value)) return [];
  return value.filter(
    (h): h is ReplyHandle =>
      typeof h === 'object' && h !== null && typeof h.plugin === 'string' && typeof h.address === 'string',
  );
}
