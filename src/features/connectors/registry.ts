// The resolved connector registry (api-collab §6.1–§6.3): file-backed connectors (read at start,
// immutable through the API) and runtime-managed ones (rows in the database, so replicas share
// them) in one namespace. PUT is a field-aware upsert; secrets are write-only; each kind's rules
// come from the ConnectorKindAdapter its feature registered.
import type { Logger } from 'pino';
import {
  ConnectorsFileError,
  type FileConnector,
  readConnectorsFile,
  type SecretBinding,
} from '../../config/connectors-file.ts';
import { normalizeScope } from '../../engine/capability-scope.ts';
import { DaemonError } from '../../errors/daemon-error.ts';
import type { SecretStore } from '../../secrets/secret-store.ts';
import type { EventLog } from '../../store/event-log.ts';
import {
  deleteConnectorRow,
  getConnectorRow,
  listConnectorRows,
  upsertConnectorRow,
} from '../../store/repos/connectors.ts';
import { getPersona } from '../../store/repos/personas.ts';
import type { Store } from '../../store/store.ts';
import type { ReplyHandle } from '../deliveries/port.ts';
import type { ConnectorKind, ConnectorKindAdapter, ConnectorRecord } from './port.ts';
import { namesConnector, schedulesNaming } from './references.ts';
import { CONNECTOR_KINDS, SessionPolicy } from './schema.ts';
import { planSecret, resolveSecret, type SecretChange, secretMeta } from './secrets.ts';

/** A connector as the registry keeps it: settings plus where each secret lives. */
export interface Entry {
  kind: ConnectorKind;
  name: string;
  source: 'file' | 'daemon';
  settings: Record<string, unknown>;
  secrets: Record<string, SecretBinding>;
  created_at_ms?: number;
  updated_at_ms?: number;
}

/** What the registry asks of the deliveries feature, when the daemon has it. */
export interface RegistryHooks {
  clearTargets(kind: ConnectorKind, name: string): Promise<number>;
  /** The deliveries feature's target validation (null without it): stored targets are its canonical handles. */
  normalizeTargets(): ((requests: unknown[]) => Promise<ReplyHandle[]>) | null;
}

/** Reply-target list fields of every kind (§6.3): checked by the output plugins when they exist. */
const TARGET_FIELDS = ['default_reply_targets', 'additional_reply_targets'];

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export const connectorNotFound = (kind: string, name: string) =>
  new DaemonError(404, 'connectors', 'connector_not_found', `connector ${kind}/${name} does not exist`);

export const toRecord = (e: Entry): ConnectorRecord => ({
  kind: e.kind,
  name: e.name,
  source: e.source,
  settings: e.settings,
  secret_fields: Object.keys(e.secrets),
});

export class ConnectorRegistry {
  private readonly adapters = new Map<ConnectorKind, ConnectorKindAdapter>();
  private file = new Map<string, Entry>();
  private fileEntries: FileConnector[] = [];
  /** Runtime rows as last read: the secret store's delete guard is synchronous. */
  private runtimeCache = new Map<string, Entry>();
  private readonly store: Store;
  private readonly events: EventLog;
  private readonly secretStore: SecretStore;
  private readonly log: Logger;
  private readonly hooks: RegistryHooks;

  constructor(store: Store, events: EventLog, secretStore: SecretStore, log: Logger, hooks: RegistryHooks) {
    this.store = store;
    this.events = events;
    this.secretStore = secretStore;
    // Another replica changed a runtime connector: the slot guard reads this cache.
    events.subscribe((ev) => {
      if (ev.name === 'connector_updated') void this.refreshCache().catch(() => undefined);
    });
    this.log = log;
    this.hooks = hooks;
  }

  registerKind(adapter: ConnectorKindAdapter): void {
    this.adapters.set(adapter.kind, adapter);
  }

  /** Reads the connectors file and checks every entry with its kind's rules (a bad file stops start-up). */
  async loadFile(path: string | null): Promise<void> {
    this.fileEntries = path ? readConnectorsFile(path) : [];
    const map = new Map<string, Entry>();
    for (const c of this.fileEntries) {
      const e: Entry = { ...c, source: 'file' };
      const adapter = this.adapters.get(c.kind);
      // A kind whose feature is not part of this daemon is loaded as is and refused at ingress.
      if (adapter) {
        try {
          await this.validateCommon(e.settings);
          await adapter.validate(e.settings, new Set(Object.keys(c.secrets)));
        } catch (err) {
          // A start-up error naming the file and the connector, not a request's problem.
          throw new ConnectorsFileError(
            `${path}: connector ${c.kind}/${c.name} is not valid: ${(err as Error).message}`,
          );
        }
      }
      map.set(`${c.kind}/${c.name}`, e);
    }
    this.file = map;
    await this.refreshCache();
    for (const id of this.file.keys())
      if (this.runtimeCache.has(id))
        this.log.warn(
          { connector: id },
          'a runtime connector has the name of a file-backed one; the file wins',
        );
  }

  async refreshCache(): Promise<void> {
    const rows = await listConnectorRows(this.store.db);
    this.runtimeCache = new Map(
      rows.map((r) => [
        `${r.kind}/${r.name}`,
        {
          kind: r.kind as ConnectorKind,
          name: r.name,
          source: 'daemon' as const,
          settings: JSON.parse(r.settings) as Record<string, unknown>,
          secrets: JSON.parse(r.secrets) as Record<string, SecretBinding>,
          created_at_ms: r.created_at_ms,
          updated_at_ms: r.updated_at_ms,
        },
      ]),
    );
  }

  /** Connectors whose secret bindings name this slot (the secret store refuses to delete it). */
  slotUsers(slotId: string): string[] {
    const users: string[] = [];
    for (const e of [...this.file.values(), ...this.runtimeCache.values()])
      for (const [field, b] of Object.entries(e.secrets))
        if (b.secret_ref === slotId) users.push(`connector ${e.kind}/${e.name} (${field})`);
    return users;
  }

  checkKind(kind: string): ConnectorKind {
    if (!(CONNECTOR_KINDS as readonly string[]).includes(kind))
      throw new DaemonError(
        400,
        'connectors',
        'unknown_connector_kind',
        `connector kind must be one of ${CONNECTOR_KINDS.join(', ')} (got ${JSON.stringify(kind)})`,
      );
    return kind as ConnectorKind;
  }

  private adapterFor(kind: ConnectorKind): ConnectorKindAdapter {
    const a = this.adapters.get(kind);
    if (!a)
      throw new DaemonError(
        400,
        'connectors',
        'connector_kind_unavailable',
        `connectors of kind ${kind} are not supported by this daemon build`,
      );
    return a;
  }

  async entry(kind: ConnectorKind, name: string): Promise<Entry | null> {
    const f = this.file.get(`${kind}/${name}`);
    if (f) return f;
    const r = await getConnectorRow(this.store.db, kind, name);
    if (!r) return null;
    return {
      kind,
      name,
      source: 'daemon',
      settings: JSON.parse(r.settings) as Record<string, unknown>,
      secrets: JSON.parse(r.secrets) as Record<string, SecretBinding>,
      created_at_ms: r.created_at_ms,
      updated_at_ms: r.updated_at_ms,
    };
  }

  async list(): Promise<Entry[]> {
    await this.refreshCache();
    const all = new Map<string, Entry>(this.runtimeCache);
    for (const [id, e] of this.file) all.set(id, e);
    return [...all.values()].sort((a, b) =>
      a.kind === b.kind ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.kind < b.kind ? -1 : 1,
    );
  }

  async secret(kind: ConnectorKind, name: string, field: string): Promise<string | null> {
    const e = await this.entry(kind, name);
    return e ? resolveSecret(this.secretStore, e.secrets[field]) : null;
  }

  /** The projected view: settings, source and redacted secret metadata, never a value. */
  view(e: Entry): Record<string, unknown> {
    const adapter = this.adapters.get(e.kind);
    const fields = new Set([...(adapter?.secretFields ?? []), ...Object.keys(e.secrets)]);
    const secrets = Object.fromEntries([...fields].map((f) => [f, secretMeta(e.secrets[f])]));
    return {
      kind: e.kind,
      name: e.name,
      source: e.source,
      ...(adapter?.viewSettings?.(e.settings) ?? e.settings),
      ...secrets,
      ...(e.created_at_ms !== undefined
        ? { created_at_ms: e.created_at_ms, updated_at_ms: e.updated_at_ms }
        : {}),
    };
  }

  private async validateCommon(settings: Record<string, unknown>): Promise<void> {
    if (settings.session_policy === undefined || settings.session_policy === null) return;
    const p = SessionPolicy.safeParse(settings.session_policy);
    if (!p.success)
      throw new DaemonError(
        400,
        'connectors',
        'invalid_session_policy',
        `session_policy: ${p.error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ')}`,
      );
    if (p.data.persona_id && !(await getPersona(this.store.db, p.data.persona_id)))
      throw new DaemonError(
        400,
        'connectors',
        'invalid_session_policy',
        `session_policy.persona_id ${p.data.persona_id} is not a known persona`,
      );
    normalizeScope(p.data.capability_scope ?? null);
  }

  /** Field-aware upsert (#51): fields present replace, `null` clears, omitted fields keep their value. */
  async put(kindRaw: string, name: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const kind = this.checkKind(kindRaw);
    if (!NAME_RE.test(name))
      throw new DaemonError(
        400,
        'connectors',
        'invalid_connector_name',
        'a connector name is 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit',
      );
    if (this.file.has(`${kind}/${name}`)) throw fileBacked(kind, name);
    const adapter = this.adapterFor(kind);
    const existing = await this.entry(kind, name);
    const settings: Record<string, unknown> = { ...(existing?.settings ?? {}) };
    const secrets: Record<string, SecretBinding> = { ...(existing?.secrets ?? {}) };
    const changes: SecretChange[] = [];
    for (const [key, value] of Object.entries(body)) {
      if (key === 'name' || key === 'kind' || key === 'source') {
        if (value !== undefined && value !== (key === 'name' ? name : key === 'kind' ? kind : 'daemon'))
          throw new DaemonError(400, 'connectors', 'invalid_connector', `${key} is taken from the path`);
        continue;
      }
      if (adapter.secretFields.includes(key)) {
        const change = await planSecret(this.secretStore, kind, name, key, value);
        changes.push(change);
        if (change.binding) secrets[key] = change.binding;
        else delete secrets[key];
      } else if (value === null) delete settings[key];
      else settings[key] = value;
    }
    await this.validateCommon(settings);
    await adapter.validate(settings, new Set(Object.keys(secrets)));
    const normalize = this.hooks.normalizeTargets();
    if (normalize)
      for (const field of TARGET_FIELDS)
        if (Array.isArray(settings[field]) && field in body)
          settings[field] = await normalize(settings[field]);
    for (const c of changes)
      if (c.write)
        await this.secretStore.put({
          slot_id: c.write.slot_id,
          provider: 'generic',
          mode: 'opaque_secret',
          state: { value: c.write.value },
          updated_at_ms: Date.now(),
        });
    await this.store.write(async (tx) => {
      await upsertConnectorRow(tx.db, {
        kind,
        name,
        settings: JSON.stringify(settings),
        secrets: JSON.stringify(secrets),
        created_at_ms: existing?.created_at_ms ?? tx.now,
        updated_at_ms: tx.now,
      });
      await this.events.append(tx, [
        { name: 'connector_updated', data: { kind, name, action: existing ? 'updated' : 'created' } },
      ]);
    });
    await this.refreshCache();
    const saved = (await this.entry(kind, name))!;
    await adapter.onChange?.(name, toRecord(saved));
    return this.view(saved);
  }

  async remove(
    kindRaw: string,
    name: string,
  ): Promise<{ deleted: true; kind: ConnectorKind; name: string; cleared_sessions: number }> {
    const kind = this.checkKind(kindRaw);
    if (this.file.has(`${kind}/${name}`)) throw fileBacked(kind, name);
    const existing = await this.entry(kind, name);
    if (!existing) throw connectorNotFound(kind, name);
    const users = (await this.list())
      .filter((e) => !(e.kind === kind && e.name === name))
      .filter((e) => namesConnector(e.settings, kind, name))
      .map((e) => `connector ${e.kind}/${e.name}`);
    users.push(...(await schedulesNaming(this.store.db, kind, name)).map((id) => `schedule ${id}`));
    if (users.length)
      throw new DaemonError(
        409,
        'connectors',
        'connector_in_use',
        `connector ${kind}/${name} is still referenced by ${users.join(', ')}; remove those references first`,
      );
    await this.store.write(async (tx) => {
      await deleteConnectorRow(tx.db, kind, name);
      await this.events.append(tx, [{ name: 'connector_updated', data: { kind, name, action: 'deleted' } }]);
    });
    await this.refreshCache();
    const cleared = await this.hooks.clearTargets(kind, name);
    await this.adapters.get(kind)?.onChange?.(name, null);
    return { deleted: true, kind, name, cleared_sessions: cleared };
  }
}

const fileBacked = (kind: string, name: string) =>
  new DaemonError(
    409,
    'connectors',
    'connector_file_backed',
    `connector ${kind}/${name} comes from the connectors config file; change it there and restart`,
  );
