// Public surface of the web tools for the daemon: registers `web_fetch` and `web_search`.
import type { ToolRegistry } from '../registry.ts';
import type { WebFetchOptions } from './web-fetch.ts';
import { createWebFetchTool } from './web-fetch.ts';
import type { WebSearchOptions } from './web-search.ts';
import { createWebSearchTool } from './web-search.ts';

export interface WebToolsOptions {
  fetch?: WebFetchOptions;
  search?: WebSearchOptions;
}

export function registerWebTools(registry: ToolRegistry, opts: WebToolsOptions = {}): void {
  registry.register(createWebFetchTool(opts.fetch));
  registry.register(createWebSearchTool(opts.search));
}
