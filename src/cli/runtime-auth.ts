// `runtime auth`: the credential broker and provider/MCP accounts (ops-runtime §2.7, §5.3, §5.5).
//   runtime auth subject <id> | revoke-subject <id> | lease <id> | revoke-lease <id> | revoke-slot <slot>
//   runtime auth accounts list | get <slot> | revoke <slot>
import type { Command } from 'commander';
import {
  type AccountStatus,
  AuthResource,
  type AuthSubjectStatus,
  type CredentialLeaseStatus,
  type SlotRevocation,
} from '../sdk/auth.ts';
import { keyValues, table, time } from './format.ts';
import type { CliRuntime } from './runtime.ts';

const ids = (list: string[]) => (list.length ? list.join(', ') : '-');

const renderSubject = (s: AuthSubjectStatus) =>
  keyValues([
    ['subject', s.subject_id],
    ['epoch', String(s.current_epoch)],
    ['revoked', s.revoked ? 'yes' : 'no'],
    ['route leases', ids(s.active_route_lease_ids)],
    ['mcp leases', ids(s.active_mcp_lease_ids)],
    ['connector leases', ids(s.active_connector_lease_ids)],
  ]);

const renderLease = (l: CredentialLeaseStatus) =>
  keyValues([
    ['lease', l.lease.id],
    ['subject', `${l.lease.subject_id} (epoch ${l.lease.subject_epoch})`],
    ['audience', JSON.stringify(l.lease.audience)],
    ['issued', time(l.lease.issued_at_ms) ?? undefined],
    ['expires', time(l.lease.expires_at_ms) ?? undefined],
    ['state', l.revoked ? 'revoked' : l.active ? 'active' : 'expired'],
  ]);

const renderSlotRevocation = (r: SlotRevocation) => [
  `revoked slot ${r.slot_id}; leases ended: ${ids(r.revoked_lease_ids)}`,
];

const accountRow = (a: AccountStatus) => [a.slot_id, a.provider, time(a.updated_at_ms) ?? '', a.summary];

export function registerRuntimeAuthCommands(runtime: Command, rt: CliRuntime): void {
  const auth = runtime
    .command('auth')
    .description('credential broker subjects, leases, slots and accounts (admin)');
  const api = () => new AuthResource(rt.client());
  auth
    .command('subject <subject_id>')
    .description('status of session:<id>, agent:<id>, connector:<name> or daemon')
    .action(async (id: string) => rt.emit(await api().subject(id), renderSubject));
  auth
    .command('revoke-subject <subject_id>')
    .description('revoke a subject: its leases end and no new credential resolves for it')
    .action(async (id: string) => rt.emit(await api().revokeSubject(id), renderSubject));
  auth
    .command('lease <lease_id>')
    .description('status of one credential lease (never its token)')
    .action(async (id: string) => rt.emit(await api().lease(id), renderLease));
  auth
    .command('revoke-lease <lease_id>')
    .description('end one lease now')
    .action(async (id: string) => rt.emit(await api().revokeLease(id), renderLease));
  auth
    .command('revoke-slot <slot_id>')
    .description('end every lease of a secret slot and refuse new ones until the slot is rewritten')
    .action(async (id: string) => rt.emit(await api().revokeSlot(id), renderSlotRevocation));

  const accounts = auth.command('accounts').description('oauth_account slots (metadata only)');
  accounts
    .command('list')
    .action(async () =>
      rt.emit(await api().accounts(), (list) =>
        list.length
          ? table(['SLOT', 'PROVIDER', 'UPDATED', 'SUMMARY'], list.map(accountRow))
          : ['no accounts'],
      ),
    );
  accounts
    .command('get <slot_id>')
    .action(async (id: string) =>
      rt.emit(await api().account(id), (a) =>
        table(['SLOT', 'PROVIDER', 'UPDATED', 'SUMMARY'], [accountRow(a)]),
      ),
    );
  accounts
    .command('refresh <slot_id>')
    .description('forced token refresh of an MCP OAuth account (refresh_token grant)')
    .action(async (id: string) =>
      rt.emit(await api().refreshAccount(id), (a) => [`refreshed ${a.slot_id} (${a.summary})`]),
    );
  accounts
    .command('revoke <slot_id>')
    .description('end every lease of the account slot (the slot stays; rewrite it to lift)')
    .action(async (id: string) => rt.emit(await api().revokeAccount(id), renderSlotRevocation));
}
