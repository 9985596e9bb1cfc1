// The built-in file tools (issue 4, item 1) and their registration. Mutating tools are marked
// `side_effects: true`, so the engine runs them one at a time after journaling their start.
import type { ToolDefinition, ToolRegistry } from '../registry.ts';
import { applyPatchTool } from './apply-patch.ts';
import type { FileToolConfig } from './define-tool.ts';
import { editFileTool } from './edit-file.ts';
import { globSearchTool } from './glob-search.ts';
import { grepSearchTool } from './grep-search.ts';
import type { FileToolOptions, LimitsSource } from './limits.ts';
import { listFilesTool } from './list-files.ts';
import { readFileTool } from './read-file.ts';
import { writeFileTool } from './write-file.ts';

export type { FileToolOptions, LimitsSource, ToolRuntimeLimits } from './limits.ts';
export { closeSearchWorkers } from './search-pool.ts';

export const BUILTIN_FILE_TOOL_NAMES = [
  'read_file',
  'write_file',
  'edit_file',
  'apply_patch',
  'list_files',
  'glob_search',
  'grep_search',
] as const;

export function builtinFileTools(config: FileToolConfig = {}): ToolDefinition[] {
  return [
    readFileTool(config),
    writeFileTool(config),
    editFileTool(config),
    applyPatchTool(config),
    listFilesTool(config),
    globSearchTool(config),
    grepSearchTool(config),
  ];
}

/**
 * Registers the file tools. A tool already registered under the same name is kept, so a test or
 * an embedding that supplied its own `write_file` is not silently replaced. `limits` may be a
 * getter so live ToolRuntimeLimits changes apply to the next call.
 */
export function registerBuiltinFileTools(
  registry: ToolRegistry,
  limits?: LimitsSource,
  options?: Partial<FileToolOptions>,
): void {
  for (const tool of builtinFileTools({ limits, options })) {
    if (!registry.get(tool.name)) registry.register(tool);
  }
}
