// The credential broker and account API (/v1/runtime/auth, docs/credentials.md): subject and lease
// status, revocation of a subject, a lease or a slot, and oauth_account slots. Admin token.
import type { DaemonClient } from './client.ts';

export interface AuthSubjectStatus {
  subject_id: string;
  current_epoch: number;
  revoked: boolean;
  active_connector_lease_ids: string[];
  active_route_lease_ids: string[];
  active_mcp_lease_ids: string[];
}

export interface CredentialLeaseStatus {
  lease: {
    id: string;
    grant_id: string;
    subject_id: string;
    subject_epoch: number;
    audience: Record<string, unknown>;
    issued_at_ms: number;
    expires_at_ms: number;
  };
  revoked: boolean;
  active: boolean;
}

export interface SlotRevocation {
  slot_id: string;
  revoked: true;
  revoked_lease_ids: string[];
}

/** AuthSlotStatus of an oauth_account slot: metadata only, never a token. */
export interface AccountStatus {
  slot_id: string;
  provider: string;
  mode: string;
  summary: string;
  updated_at_ms: number;
  details: Record<string, unknown>;
}

const seg = encodeURIComponent;

export class AuthResource {
  private readonly http: DaemonClient;

  constructor(http: DaemonClient) {
    this.http = http;
  }

  async subject(subjectId: string): Promise<AuthSubjectStatus> {
    return (await this.http.request(
      'GET',
      `/v1/runtime/auth/subjects/${seg(subjectId)}`,
    )) as AuthSubjectStatus;
  }

  async revokeSubject(subjectId: string): Promise<AuthSubjectStatus> {
    return (await this.http.request(
      'POST',
      `/v1/runtime/auth/subjects/${seg(subjectId)}/revoke`,
    )) as AuthSubjectStatus;
  }

  async lease(leaseId: string): Promise<CredentialLeaseStatus> {
    return (await this.http.request(
      'GET',
      `/v1/runtime/auth/leases/${seg(leaseId)}`,
    )) as CredentialLeaseStatus;
  }

  async revokeLease(leaseId: string): Promise<CredentialLeaseStatus> {
    return (await this.http.request(
      'POST',
      `/v1/runtime/auth/leases/${seg(leaseId)}/revoke`,
    )) as CredentialLeaseStatus;
  }

  async revokeSlot(slotId: string): Promise<SlotRevocation> {
    return (await this.http.request(
      'POST',
      `/v1/runtime/auth/slots/${seg(slotId)}/revoke`,
    )) as SlotRevocation;
  }

  async accounts(): Promise<AccountStatus[]> {
    return (await this.http.request('GET', '/v1/runtime/auth/accounts')) as AccountStatus[];
  }

  async account(slotId: string): Promise<AccountStatus> {
    return (await this.http.request('GET', `/v1/runtime/auth/accounts/${seg(slotId)}`)) as AccountStatus;
  }

  /** Forced refresh (refresh_token grant) of an MCP OAuth account. */
  async refreshAccount(slotId: string): Promise<AccountStatus> {
    return (await this.http.request(
      'POST',
      `/v1/runtime/auth/accounts/${seg(slotId)}/refresh`,
    )) as AccountStatus;
  }

  async revokeAccount(slotId: string): Promise<SlotRevocation> {
    return (await this.http.request(
      'POST',
      `/v1/runtime/auth/accounts/${seg(slotId)}/revoke`,
    )) as SlotRevocation;
  }

  async deleteAccount(slotId: string): Promise<{ accepted: true }> {
    return (await this.http.request('DELETE', `/v1/runtime/auth/accounts/${seg(slotId)}`)) as {
      accepted: true;
    };
  }
}
