// Optional semantic ranking of memory search (decision 453): off by default. When the run-memory
// policy's `semantic_search` names a route whose driver offers embeddings (openai,
// openai_compatible), memory-search with a query embeds the query and its candidates through the AI
// SDK and blends cosine similarity into the lexical score. Prompts never use it (concepts §4.9
// keeps embeddings out of the prompt layer). Item vectors are cached in memory by text digest; a
// failing embedding call falls back to lexical ranking and is counted.
import { createHash } from 'node:crypto';
import type { EmbeddingModel } from 'ai';
import type { Engine } from '../../engine/engine.ts';
import { apiRoot, requireApiKey } from '../../models/drivers/route-options.ts';

export interface SemanticSearchSettings {
  enabled: boolean;
  /** A route id whose driver is `openai` or `openai_compatible`. */
  route: string | null;
  /** The embedding model (e.g. `text-embedding-3-small`). */
  model: string | null;
}

export const DEFAULT_SEMANTIC_SEARCH: Readonly<SemanticSearchSettings> = Object.freeze({
  enabled: false,
  route: null,
  model: null,
});

export const EMBEDDING_DRIVERS: ReadonlySet<string> = new Set(['openai', 'openai_compatible']);

/** Weight of the cosine similarity in a blended score (the rest is the lexical score). */
export const SEMANTIC_WEIGHT = 0.5;
/** Below this similarity an item with no query word is not a result. */
export const SEMANTIC_FLOOR = 0.35;
const CACHE_MAX = 5_000;
const EMBED_TIMEOUT_MS = 10_000;

const digest = (s: string) => createHash('sha256').update(s).digest('hex');

export class SemanticRanker {
  private readonly engine: Engine;
  private readonly cache = new Map<string, number[]>();
  failures = 0;
  lastError: string | null = null;

  constructor(engine: Engine) {
    this.engine = engine;
  }

  private async model(s: SemanticSearchSettings): Promise<EmbeddingModel> {
    const route = this.engine.routes.get(s.route ?? '')?.config;
    if (!route || !EMBEDDING_DRIVERS.has(route.driver))
      throw new Error(`route \`${s.route}\` is not an openai or openai_compatible route`);
    const refusal = (await this.engine.credentialGate?.authorizeDaemonRoute(route.route_id)) ?? null;
    if (refusal) throw new Error(`${refusal.code}: ${refusal.message}`);
    const creds = this.engine.routes.credentialsFor(route.route_id) ?? {};
    if (route.driver === 'openai') {
      const { createOpenAI } = await import('@ai-sdk/openai');
      return createOpenAI({
        baseURL: apiRoot(route.base_url, '/v1'),
        apiKey: requireApiKey(route, creds),
      }).embeddingModel(s.model!);
    }
    const { createOpenAICompatible } = await import('@ai-sdk/openai-compatible');
    return createOpenAICompatible({
      name: route.route_id,
      baseURL: apiRoot(route.base_url, '/v1')!,
      apiKey: creds.apiKey,
    }).embeddingModel(s.model!);
  }

  /**
   * Cosine similarity of `query` to each text, or null when the embedding call failed (the caller
   * then ranks lexically).
   */
  async similarities(
    s: SemanticSearchSettings,
    query: string,
    texts: readonly string[],
  ): Promise<number[] | null> {
    try {
      const { embedMany, cosineSimilarity } = await import('ai');
      const model = await this.model(s);
      const key = (t: string) => `${s.route}\u0000${s.model}\u0000${digest(t)}`;
      const missing = [...new Set([query, ...texts].filter((t) => !this.cache.has(key(t))))];
      if (missing.length) {
        const { embeddings } = await embedMany({
          model,
          values: missing,
          maxRetries: 0,
          abortSignal: AbortSignal.timeout(EMBED_TIMEOUT_MS),
        });
        for (const [i, t] of missing.entries()) this.remember(key(t), embeddings[i]!);
      }
      const q = this.cache.get(key(query))!;
      return texts.map((t) => cosineSimilarity(q, this.cache.get(key(t))!));
    } catch (err) {
      this.failures++;
      this.lastError = String((err as Error).message ?? err).slice(0, 200);
      return null;
    }
  }

  private remember(key: string, vector: number[]): void {
    if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, vector);
  }
}
