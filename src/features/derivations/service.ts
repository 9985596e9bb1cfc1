// Derivations (api-core §8.5): deterministic daemon-owned transforms with a durable cache.
// One computation per versioned cache key at a time in this process (single flight); across
// PostgreSQL replicas the cache table's primary key decides, and a replica that loses the race
// answers with the winner's record. A record, its asset references and the cache entry commit
// in one transaction, after the result asset is stored: a crash leaves no half derivation.
import { monotonicFactory } from 'ulid';
import { errors } from '../../errors/daemon-error.ts';
import {
  type CacheKey,
  cachedDerivation,
  completedWithResults,
  type DerivationRow,
  getDerivation,
  insertDerivation,
  listDerivations,
  markDerivationFailed,
  setCacheEntry,
} from '../../store/repos/derivations.ts';
import type { AssetReference, AssetsPort } from '../assets/port.ts';
import type { Kernel } from '../feature.ts';
import { derivationErrors as E } from './errors.ts';
import type { ObservationsForDerivations } from './observations-port.ts';
import type { DerivationsPort } from './port.ts';
import { execute, type Outcome, type Plan, planDerivation } from './profiles.ts';
import type { CreateDerivationRequest, DerivationView, TranscriptionOptions } from './schema.ts';
import { type ResolvedSubject, resolveSubject } from './subjects.ts';
import { hasOptions, type NormalizedTranscription, RetryableTranscriptionError } from './transcription.ts';

const ulid = monotonicFactory();
const DOMAIN = 'derivations';

export interface CreateFlags {
  force_refresh: boolean;
  retry_failed: boolean;
}

/** Trimmed and checked transcription options (api docs: prompt ≤ 2,000 chars, short ASCII language). */
export function normalizeTranscription(o: TranscriptionOptions | undefined): NormalizedTranscription {
  if (!o) return {};
  const out: NormalizedTranscription = {};
  if (o.prompt !== undefined) {
    const prompt = o.prompt.trim();
    if (prompt.length > 2000)
      throw E.invalid(`transcription.prompt is ${prompt.length} characters; at most 2000 are allowed`);
    if (prompt !== '') out.prompt = prompt;
  }
  if (o.language !== undefined) {
    const language = o.language.trim();
    if (!/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})?$/.test(language))
      throw E.invalid('transcription.language must be a short ASCII language code such as "en" or "pt-BR"');
    out.language = language;
  }
  if (o.timestamp_granularities !== undefined) {
    const set = new Set(o.timestamp_granularities);
    if (set.size !== o.timestamp_granularities.length || set.size === 0)
      throw E.invalid('transcription.timestamp_granularities takes "word" and/or "segment", each once');
    out.timestamp_granularities = (['segment', 'word'] as const).filter((g) => set.has(g));
  }
  return out;
}

export function viewOf(r: DerivationRow): DerivationView {
  const v: DerivationView = {
    derivation_id: r.derivation_id,
    profile: r.profile as DerivationView['profile'],
    subject: JSON.parse(r.subject),
    result_asset_id: r.result_asset_id,
    reused_subject_asset: r.reused_subject_asset === 1,
    created_at_ms: r.created_at_ms,
    status: r.status as DerivationView['status'],
    profile_version: r.profile_version,
    source_fingerprint: r.source_fingerprint,
  };
  if (r.backend) v.backend = JSON.parse(r.backend);
  if (r.error) v.error = r.error;
  return v;
}

interface FlightResult {
  row: DerivationRow;
  created: boolean;
}

export class DerivationsService implements DerivationsPort {
  private readonly k: Kernel;
  /** In-flight computations by cache key: identical concurrent requests share one. */
  private readonly flights = new Map<string, Promise<FlightResult>>();
  /** Aborted at shutdown: an in-flight transcription stops and persists nothing. */
  private readonly shutdown = new AbortController();

  constructor(k: Kernel) {
    this.k = k;
  }

  private get db() {
    return this.k.store.db;
  }

  async get(id: string): Promise<DerivationView> {
    const r = await getDerivation(this.db, id);
    if (!r) throw E.notFound(id);
    return viewOf(r);
  }

  async list(q: { query?: string; after?: string; limit?: number }) {
    const { rows, total } = await listDerivations(this.db, q);
    return { items: rows.map(viewOf), total };
  }

  async create(req: CreateDerivationRequest, flags: CreateFlags): Promise<DerivationView> {
    if (this.shutdown.signal.aborted) throw errors.draining();
    const options = normalizeTranscription(req.transcription);
    const subject = await resolveSubject(this.k, req.subject);
    const plan = planDerivation(this.k, req.profile, subject, options);
    const key: CacheKey = {
      profile: plan.profile,
      profile_version: plan.profile_version,
      subject_key: subject.key,
      source_fingerprint: plan.source_fingerprint,
    };
    const flightKey = JSON.stringify(key);
    const joined = this.flights.get(flightKey);
    if (joined) return { ...viewOf((await joined).row), cache_status: 'hit' };
    const cached = await cachedDerivation(this.db, key);
    const recompute =
      cached === undefined || flags.force_refresh || (flags.retry_failed && cached.status === 'failed');
    if (!recompute) {
      // A crash between the record's commit and the write-back left the observation without its
      // transcript pointer: a hit repairs it.
      if (subject.observation && !subject.canonicalTextAssetId && isDefaultTranscript(cached, plan))
        await this.writeBack(subject.observation.observation_id, cached.result_asset_id!);
      return { ...viewOf(cached), cache_status: 'hit' };
    }
    // Checked again: another request may have started the same flight while this one read.
    const racing = this.flights.get(flightKey);
    if (racing) return { ...viewOf((await racing).row), cache_status: 'hit' };
    const flight = this.compute(subject, plan, key, cached?.derivation_id ?? null);
    this.flights.set(flightKey, flight);
    try {
      const { row, created } = await flight;
      return { ...viewOf(row), cache_status: created ? 'miss' : 'hit' };
    } finally {
      this.flights.delete(flightKey);
    }
  }

  private async compute(
    s: ResolvedSubject,
    plan: Plan,
    key: CacheKey,
    replacing: string | null,
  ): Promise<FlightResult> {
    let outcome: Outcome;
    try {
      outcome = await execute(this.k, s, plan, this.shutdown.signal);
    } catch (err) {
      if (this.shutdown.signal.aborted) throw errors.draining();
      if (err instanceof RetryableTranscriptionError) throw E.backendRetryable(err.status, err.message);
      throw err;
    }
    const assets = this.k.use<AssetsPort>('assets');
    const id = `derivation-${ulid().toLowerCase()}`;
    const result = await this.k.store.write(async (tx) => {
      // Another replica may have installed a record for this key since it was read.
      const current = await cachedDerivation(tx.db, key);
      if (current && current.derivation_id !== replacing) return { row: current, created: false };
      const row: DerivationRow = {
        derivation_id: id,
        profile: plan.profile,
        profile_version: plan.profile_version,
        subject_key: key.subject_key,
        subject: JSON.stringify(s.subject),
        source_fingerprint: plan.source_fingerprint,
        status: outcome.status,
        result_asset_id: outcome.status === 'completed' ? outcome.result_asset_id : null,
        reused_subject_asset: outcome.status === 'completed' && outcome.reused_subject_asset ? 1 : 0,
        backend: outcome.status === 'completed' && outcome.backend ? JSON.stringify(outcome.backend) : null,
        error: outcome.status === 'failed' ? outcome.error : null,
        created_at_ms: tx.now,
      };
      await insertDerivation(tx.db, row);
      await setCacheEntry(tx.db, { ...key, derivation_id: id, updated_at_ms: tx.now });
      await assets.addReferences(referencesOf(row, s, outcome), tx.db);
      const view = viewOf(row);
      // Global stream only: session streams keep the published event names.
      await this.k.events.append(tx, [{ name: 'derivation_recorded', data: { derivation: view } }]);
      return { row, created: true };
    });
    if (result.created && outcome.status === 'completed' && outcome.transcript_asset_id && s.observation)
      await this.writeBack(s.observation.observation_id, outcome.transcript_asset_id);
    return result;
  }

  /** The observation's default canonical text becomes the daemon's transcript (when it had none). */
  private async writeBack(observationId: string, assetId: string): Promise<void> {
    try {
      const observations = this.k.use<ObservationsForDerivations>('observations');
      const current = await observations.get(observationId);
      if (current && !current.canonical_text_asset_id)
        await observations.setCanonicalTextAsset(observationId, assetId);
    } catch (err) {
      // The derivation stands; the pointer is a convenience materialization also finds through it.
      this.k.log.warn(
        { observation_id: observationId, err: (err as Error).message },
        'canonical text write-back failed',
      );
    }
  }

  /**
   * Startup repair (api docs): a completed record whose result asset is gone becomes a durable
   * failed record instead of advertising a missing artifact.
   */
  async repair(): Promise<number> {
    let assets: AssetsPort;
    try {
      assets = this.k.use<AssetsPort>('assets');
    } catch {
      return 0; // no asset store: no derivation was ever completed
    }
    let repaired = 0;
    let after: string | undefined;
    for (;;) {
      const batch = await completedWithResults(this.db, after, 500);
      if (batch.length === 0) return repaired;
      for (const r of batch) {
        if (await assets.get(r.result_asset_id)) continue;
        await this.k.store.write((tx) =>
          markDerivationFailed(
            tx.db,
            r.derivation_id,
            `result asset ${r.result_asset_id} is no longer available`,
          ),
        );
        repaired += 1;
      }
      after = batch.at(-1)!.derivation_id;
    }
  }

  stop(): void {
    this.shutdown.abort(errors.draining());
  }
}

/** A completed transcription made with default options (the kind written back onto an observation). */
const isDefaultTranscript = (r: DerivationRow, plan: Plan) =>
  r.status === 'completed' && r.result_asset_id !== null && r.backend !== null && !hasOptions(plan.options);

function referencesOf(row: DerivationRow, s: ResolvedSubject, o: Outcome): AssetReference[] {
  const ref = (asset_id: string, role: string, hard: boolean): AssetReference => ({
    asset_id,
    domain: DOMAIN,
    owner_id: row.derivation_id,
    role,
    hard,
    parent_id: s.sessionId ?? s.observation?.observation_id ?? null,
  });
  // The subject is lineage only: a derivation never keeps its source from being deleted.
  const refs = [ref(s.asset.asset_id, 'subject', false)];
  if (o.status === 'completed') {
    refs.push(ref(o.result_asset_id, 'result', true));
    if (o.backend?.timestamp_asset_id) refs.push(ref(o.backend.timestamp_asset_id, 'timestamps', true));
  }
  return refs;
}
