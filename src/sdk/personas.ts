// Personas API client calls (api-core §9): the mutable records, and binding one to a session (an
// immutable snapshot the session keeps whatever later happens to the record).
import type { DaemonClient } from './client.ts';
import type { JsonObject, ListResult, PageQuery, SessionView } from './types.ts';

export interface CapabilityScope extends JsonObject {
  skill_allow?: string[];
  skill_deny?: string[];
  mcp_server_allow?: string[];
  mcp_server_deny?: string[];
  mcp_tool_allow?: string[];
  mcp_tool_deny?: string[];
}

export interface PersonaSummaryView extends JsonObject {
  persona_id: string;
  display_name: string;
  version: number;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface PersonaView extends PersonaSummaryView {
  soul: string;
  capability_scope?: CapabilityScope;
  default_skills: string[];
  metadata?: JsonObject;
}

export interface CreatePersonaRequest {
  persona_id?: string;
  display_name: string;
  soul: string;
  capability_scope?: CapabilityScope | null;
  default_skills?: string[] | null;
  metadata?: JsonObject | null;
}

export type UpdatePersonaRequest = Partial<Omit<CreatePersonaRequest, 'persona_id'>>;

/** The compact persona summary session views carry (never the soul). */
export interface SessionPersonaSummary extends JsonObject {
  persona_id: string;
  persona_version: number;
  display_name: string;
  bound_at_ms: number;
}

const enc = encodeURIComponent;

export class PersonasResource {
  private readonly http: DaemonClient;

  constructor(http: DaemonClient) {
    this.http = http;
  }

  /** GET /v1/personas: legacy array, or the page envelope with `page`/`cursor` (persona_id_asc). */
  list(query: PageQuery & { query?: string } = {}): Promise<ListResult<PersonaSummaryView>> {
    return this.http.request('GET', '/v1/personas', { query: { ...query } }) as Promise<
      ListResult<PersonaSummaryView>
    >;
  }

  /** POST /v1/personas: 201 with version 1; a taken id throws 409 personas/persona_already_exists. */
  create(body: CreatePersonaRequest): Promise<PersonaView> {
    return this.http.request('POST', '/v1/personas', { body }) as Promise<PersonaView>;
  }

  get(personaId: string): Promise<PersonaView> {
    return this.http.request('GET', `/v1/personas/${enc(personaId)}`) as Promise<PersonaView>;
  }

  /** PUT /v1/personas/{id}: replaces the given fields, bumps the version; bound sessions keep theirs. */
  update(personaId: string, body: UpdatePersonaRequest): Promise<PersonaView> {
    return this.http.request('PUT', `/v1/personas/${enc(personaId)}`, { body }) as Promise<PersonaView>;
  }

  delete(personaId: string): Promise<{ deleted: true }> {
    return this.http.request('DELETE', `/v1/personas/${enc(personaId)}`) as Promise<{ deleted: true }>;
  }

  /** Binds a snapshot of the persona's current record to an idle session (409 while busy). */
  bind(sessionId: string, personaId: string): Promise<SessionView> {
    return this.http.request('POST', `/v1/sessions/${enc(sessionId)}/persona`, {
      body: { persona_id: personaId },
    }) as Promise<SessionView>;
  }

  /** Clears the session's binding (409 while busy). */
  clear(sessionId: string): Promise<SessionView> {
    return this.http.request('DELETE', `/v1/sessions/${enc(sessionId)}/persona`) as Promise<SessionView>;
  }
}
