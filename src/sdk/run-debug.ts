// Run debug bundles (api-core §3.13): the index of what debug capture kept of a run, one artifact's
// raw text, and the prune of old evidence. All admin-only when the daemon has auth on.
import type { DaemonClient } from './client.ts';

export interface DebugArtifactSummary {
  artifact_id: string;
  /** `json` or `json_lines`. */
  format: string;
  updated_at_ms: number;
  /** Stored bytes (the envelope when encrypted). */
  bytes: number;
  /** Retained UTF-8 bytes, after any truncation. */
  plaintext_bytes: number;
  /** Of the retained plaintext. */
  sha256: string;
  truncated: boolean;
  /** Present when a budget cut the artifact. */
  original_bytes?: number;
  encrypted: boolean;
  key_id?: string;
}

export interface RunDebugView {
  run_id: string;
  level: string;
  artifacts: DebugArtifactSummary[];
}

export interface RunRetentionPruneRequest {
  /** Required, > 0: bundles of terminal runs that ended longer ago than this. */
  older_than_ms: number;
  session_id?: string;
  /** > 0: at most this many bundles (oldest first). */
  limit?: number;
  dry_run?: boolean;
}

export interface RunRetentionPruneResponse {
  dry_run: boolean;
  now_ms: number;
  cutoff_ms: number;
  limit?: number;
  matched_run_count: number;
  candidate_run_ids: string[];
  candidate_debug_bytes: number;
  pruned_debug_run_ids: string[];
  pruned_debug_bytes: number;
}

const enc = encodeURIComponent;

export class RunDebugResource {
  private readonly http: DaemonClient;

  constructor(http: DaemonClient) {
    this.http = http;
  }

  /** The run's bundle index; 404 runs/run_debug_not_found when capture kept nothing of it. */
  get(runId: string): Promise<RunDebugView> {
    return this.http.request('GET', `/v1/runs/${enc(runId)}/debug`) as Promise<RunDebugView>;
  }

  /** One artifact's body as the daemon serves it: raw UTF-8 text (decrypted), never JSON-parsed. */
  async artifact(runId: string, artifactId: string): Promise<string> {
    const res = await this.http.send('GET', `/v1/runs/${enc(runId)}/debug/artifacts/${enc(artifactId)}`, {
      headers: { accept: 'text/plain' },
    });
    return res.text();
  }

  /** Removes (or with `dry_run`, lists) debug bundles of old terminal runs; runs and events stay. */
  prune(req: RunRetentionPruneRequest): Promise<RunRetentionPruneResponse> {
    return this.http.request('POST', '/v1/runs/prune', { body: req }) as Promise<RunRetentionPruneResponse>;
  }
}
