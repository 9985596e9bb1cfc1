// The daemon-side checks of `doctor` that read the running features: the secret store's master
// key, HTTP hook hostnames (resolved now: a name that points inside the network is refused at
// call time), MCP servers and external connector processes.
import { lookup } from 'node:dns/promises';
import { type DoctorCheck, fail, pass } from '../../config/doctor-check.ts';
import type { SecretStore } from '../../secrets/secret-store.ts';
import { forbiddenAddressReason } from '../../tools/web/ip-policy.ts';

type Json = Record<string, unknown>;
const DNS_TIMEOUT_MS = 3000;

export function masterKey(secrets: SecretStore, slotCount: number): DoctorCheck[] {
  const out: DoctorCheck[] = [];
  if (secrets.state === 'ready')
    out.push(pass('master_key', `master key ${secrets.keyId} opens the secret store (${slotCount} slot(s))`));
  else if (secrets.state === 'locked')
    out.push(
      fail(
        'master_key',
        'master_key_missing',
        'error',
        `${slotCount} secret slot(s) are stored but the daemon has no master key: routes and connectors that use them fail`,
        'restart the daemon with KHEISH_AUTH_STORE_MASTER_KEY_FILE=<the key file they were written with>',
      ),
    );
  else
    out.push(
      fail(
        'master_key',
        'master_key_unset',
        'info',
        'no master key: the secret store is off and secret writes are refused; make a key file, then restart with KHEISH_AUTH_STORE_MASTER_KEY_FILE=<its absolute path>',
        'kheish-daemon secrets generate > master.key && chmod 600 master.key',
      ),
    );
  for (const w of secrets.warnings)
    out.push(fail('master_key', 'master_key_warning', 'warning', w, 'chmod 600 the key file'));
  return out;
}

async function resolveAll(host: string): Promise<string[]> {
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`no answer within ${DNS_TIMEOUT_MS} ms`)), DNS_TIMEOUT_MS).unref(),
  );
  const found = await Promise.race([lookup(host, { all: true }), timeout]);
  return found.map((a) => a.address);
}

/** Every HTTP hook's host, resolved: private or local answers and names that do not resolve. */
export async function hookHosts(settings: unknown): Promise<DoctorCheck[]> {
  const hooks = ((settings as Json | undefined)?.hooks ?? {}) as Record<string, Json[]>;
  const targets: Array<{ name: string; url: string }> = [];
  for (const defs of Object.values(hooks))
    for (const def of defs ?? []) {
      const ex = def.executor as Json | undefined;
      if (ex?.type === 'http' && typeof ex.url === 'string')
        targets.push({ name: String(def.name), url: ex.url });
    }
  if (targets.length === 0) return [pass('hooks', 'no HTTP hooks configured')];
  return Promise.all(
    targets.map(async ({ name, url }): Promise<DoctorCheck> => {
      const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
      try {
        const addresses = await resolveAll(host);
        const bad = addresses.map((a) => [a, forbiddenAddressReason(a)] as const).find(([, r]) => r);
        return bad
          ? fail(
              'hooks',
              'hook_host_private',
              'error',
              `hook ${name}: ${host} resolves to ${bad[0]} (${bad[1]}); the daemon refuses to call it`,
              `point hook ${name} at a public host name (kheish-daemon runtime hooks get, edit, runtime hooks set)`,
              name,
            )
          : pass('hooks', `hook ${name}: ${host} resolves to ${addresses.join(', ')}`);
      } catch (err) {
        return fail(
          'hooks',
          'hook_host_unresolved',
          'warning',
          `hook ${name}: ${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
          `check the DNS of ${host} from the daemon's host, or fix the URL of hook ${name}`,
          name,
        );
      }
    }),
  );
}

export function mcpServers(mcp: unknown): DoctorCheck[] {
  const servers = (((mcp as Json | undefined)?.servers ?? []) as Json[]).filter(Boolean);
  if (servers.length === 0) return [pass('mcp', 'no MCP servers configured')];
  return servers.map((s) =>
    s.connected === true
      ? pass(
          'mcp',
          `MCP server ${s.server}: connected, ${Array.isArray(s.tools) ? s.tools.length : 0} tool(s)`,
        )
      : fail(
          'mcp',
          'mcp_server_disconnected',
          'warning',
          `MCP server ${s.server} is not connected: ${s.error ?? 'unknown error'}`,
          `fix the entry of ${s.server} in --mcp-config (or its secret: kheish-daemon secrets set <slot>) and restart the daemon`,
          String(s.server),
        ),
  );
}

const HEALTHY_CHILD = new Set(['ready', 'starting', 'standby']);

export function externalConnectors(status: unknown): DoctorCheck[] {
  const children = (((status as Json | undefined)?.children ?? []) as Json[]).filter(Boolean);
  if (children.length === 0) return [pass('connectors', 'no connector processes supervised')];
  return children.map((c) =>
    HEALTHY_CHILD.has(String(c.state))
      ? pass('connectors', `connector ${c.connector}: ${c.state}`)
      : fail(
          'connectors',
          'connector_unhealthy',
          'warning',
          `connector ${c.connector} is ${c.state} after ${c.restarts ?? 0} restart(s): ${c.last_error ?? 'no error recorded'}`,
          `kheish-daemon external-connectors status shows its state; fix the command or settings of ${c.connector} in --connectors-config and restart`,
          String(c.connector),
        ),
  );
}
