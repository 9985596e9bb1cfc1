// Control-plane bearer auth (admin vs read-only), failure rate limiting, and CORS.
import { appendFileSync, mkdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServeConfig, TokenSource } from '../config/serve-options.ts';
import { DaemonError } from '../errors/daemon-error.ts';

/** Reads a token, re-reading a token file when it changes (hot rotation). */
class TokenReader {
  private readonly source: TokenSource;
  private cached: { stamp: string; value: string } | null = null;
  constructor(source: TokenSource) {
    this.source = source;
  }
  read(): string | null {
    if (this.source.kind === 'inline') return this.source.value || null;
    try {
      // Any metadata change re-reads: an atomic replace within the same millisecond keeps the
      // mtime but not the inode, and a copy with preserved times keeps neither size nor ctime.
      const st = statSync(this.source.path);
      const stamp = `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
      if (!this.cached || this.cached.stamp !== stamp)
        this.cached = { stamp, value: readFileSync(this.source.path, 'utf8').trim() };
      return this.cached.value || null;
    } catch {
      return null;
    }
  }
}

/**
 * GET paths a read-only token may read (an allow-list: any other GET is admin-only). Raw assets,
 * run debug bundles, secrets, auth, hooks, revisions and the daemon's logs are deliberately absent.
 */
const READ_ONLY_ALLOWED = [
  /^\/v1\/(status|capabilities|openapi\.json|runtime|runtime\/routes|runtime\/tool-limits|skills(\/[^/]+)?|docs(\/[^/]+)?)$/,
  /^\/v1\/events\/stream$/,
  /^\/metrics$/,
  /^\/v1\/sessions(\/[^/]+(\/(events|stream|memory-context|memory-search|skills|reply-targets|questions|approvals|output-contract|input-contract|permission-rules|permission-audits|tasks(\/[^/]+(\/output)?)?))?)?$/,
  /^\/v1\/runs(\/[^/]+(\/(events|stream|external-actions))?)?$/,
  /^\/v1\/(questions|approvals|agents|agents\/summaries|schedules|personas|deliveries|deliveries\/dead-letter)(\/[^/]+)?$/,
  /^\/v1\/assets(\/[^/]+(\/references)?)?$/,
  /^\/v1\/derivations(\/[^/]+)?$/,
];

/**
 * Routes that authenticate their own callers, outside the control-plane tokens (ops-runtime §4,
 * §5.7; api-collab §0.3 zone 2): observation upload (the source's upload token), capture
 * heartbeats (the agent's heartbeat token) and connector ingress (bearer, HMAC, Slack signing
 * secret, Telegram secret token, sidecar shared token). The control-plane token is neither required
 * nor accepted as a substitute there: presented, it is just a wrong token.
 */
const OWN_AUTH_ROUTES = [
  /^POST \/v1\/observation-sources\/[^/]+\/observations$/,
  /^POST \/v1\/capture-agents\/[^/]+\/heartbeat$/,
  /^POST \/v1\/connectors\/(http|slack|telegram)\/[^/]+$/,
  /^POST \/v1\/connectors\/external\/[^/]+\/events(\/batch)?$/,
  /^GET \/v1\/connectors\/external\/[^/]+\/credentials\/[^/]+$/,
  // A sidecar downloads a pending delivery's attachment with the connector's shared token.
  /^GET \/v1\/connectors\/external\/[^/]+\/deliveries\/[^/]+\/assets\/[^/]+\/raw$/,
];

const hasOwnAuth = (method: string, path: string): boolean =>
  OWN_AUTH_ROUTES.some((re) => re.test(`${method} ${path}`));

const RATE_WINDOW_MS = 60_000;
const RATE_MAX = 60;
/**
 * Failing clients remembered at most (per reason and remote address). Idle ones are forgotten
 * after a window; past the bound the longest-idle go first, so a flood from many addresses costs
 * bounded memory (at worst such a client's count restarts: it is rate-limited a little later).
 */
export const MAX_TRACKED_FAILURES = 4096;

/**
 * Whether the admin and read-only tokens are the same at start-up: the same inline value, the
 * same file (by path or through a link), or two files or sources holding the same token.
 */
export function identicalTokens(config: Pick<ServeConfig, 'adminToken' | 'readonlyToken'>): boolean {
  const a = config.adminToken;
  const r = config.readonlyToken;
  if (!a || !r) return false;
  if (a.kind === 'file' && r.kind === 'file' && realOrSelf(a.path) === realOrSelf(r.path)) return true;
  const av = new TokenReader(a).read();
  return av !== null && av === new TokenReader(r).read();
}

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

const unauthorized = (code: string, detail: string) =>
  new DaemonError(401, 'auth', code, detail, { 'www-authenticate': 'Bearer realm="kheish-daemon"' });

export class AuthGuard {
  private readonly admin: TokenReader | null;
  private readonly readonly: TokenReader | null;
  private readonly failures = new Map<string, number[]>();
  private readonly limited = new Set<string>();
  private lastSweepMs = 0;
  private readonly auditPath: string | null;
  readonly enabled: boolean;

  /** `auditPath`: JSON lines of auth failures (never token bytes), owner-only. */
  constructor(config: ServeConfig, auditPath: string | null = null) {
    this.auditPath = auditPath;
    this.admin = config.adminToken ? new TokenReader(config.adminToken) : null;
    this.readonly = config.readonlyToken ? new TokenReader(config.readonlyToken) : null;
    this.enabled =
      config.authMode !== 'none' &&
      (this.admin !== null || this.readonly !== null || config.authMode === 'bearer');
  }

  private fail(req: FastifyRequest, err: DaemonError): DaemonError {
    const key = `${err.code}|${req.ip}`;
    const now = Date.now();
    this.forgetIdle(now);
    const recent = (this.failures.get(key) ?? []).filter((t) => now - t < RATE_WINDOW_MS);
    recent.push(now);
    // Re-inserted: the map stays ordered by last failure, oldest first.
    this.failures.delete(key);
    this.failures.set(key, recent);
    for (const oldest of this.failures.keys()) {
      if (this.failures.size <= MAX_TRACKED_FAILURES) break;
      this.failures.delete(oldest);
      this.limited.delete(oldest);
    }
    const record = { reason: err.code, remote_addr: req.ip, method: req.method, path: req.url.split('?')[0] };
    req.log.warn({ audit: 'auth_failure', ...record }, 'auth failure');
    this.audit({ event: 'auth_failure', ...record });
    if (recent.length <= RATE_MAX) this.limited.delete(key);
    if (recent.length > RATE_MAX) {
      // One transition record per flood, not one per refused request.
      if (!this.limited.has(key)) {
        this.limited.add(key);
        req.log.warn({ audit: 'auth_rate_limited', ...record }, 'auth rate limited');
        this.audit({ event: 'auth_rate_limited', ...record });
      }
      return new DaemonError(
        429,
        'auth',
        'rate_limited',
        'too many failed authentication attempts; retry in 60 s',
        {
          'retry-after': '60',
        },
      );
    }
    return err;
  }

  /** Clients whose failures are remembered now (bounded; for tests and status). */
  get trackedFailureClients(): number {
    return this.failures.size;
  }

  /** Drops clients with no failure inside the window (at most once per quarter window). */
  private forgetIdle(now: number): void {
    if (now - this.lastSweepMs < RATE_WINDOW_MS / 4) return;
    this.lastSweepMs = now;
    for (const [key, times] of this.failures) {
      if (now - times[times.length - 1]! < RATE_WINDOW_MS) break;
      this.failures.delete(key);
      this.limited.delete(key);
    }
  }

  private audit(entry: Record<string, unknown>): void {
    if (!this.auditPath) return;
    try {
      mkdirSync(dirname(this.auditPath), { recursive: true, mode: 0o700 });
      appendFileSync(this.auditPath, `${JSON.stringify({ timestamp_ms: Date.now(), ...entry })}\n`, {
        mode: 0o600,
      });
    } catch {
      // Auditing must never turn an auth refusal into a 500.
    }
  }

  check(req: FastifyRequest): void {
    if (!this.enabled) return;
    const path = req.url.split('?')[0]!;
    // GET /metrics carries the same counters as /v1/status, so it takes the same tokens.
    if (!(path.startsWith('/v1/') || path === '/metrics') || req.method === 'OPTIONS') return;
    if (hasOwnAuth(req.method, path)) return;
    const header = req.headers.authorization;
    if (header === undefined)
      throw this.fail(
        req,
        unauthorized('missing_token', 'this daemon requires Authorization: Bearer <token>'),
      );
    const m = /^bearer\s+(.*)$/i.exec(header.trim());
    const presented = m?.[1]?.trim();
    if (!presented)
      throw this.fail(
        req,
        unauthorized('malformed_token', 'the Authorization header must be "Bearer <token>"'),
      );
    const admin = this.admin?.read() ?? null;
    const ro = this.readonly?.read() ?? null;
    // Equal admin and read-only tokens would make the boundary meaningless: refuse both.
    const usable = admin !== null && ro !== null && admin === ro ? { admin: null, ro: null } : { admin, ro };
    if (usable.admin !== null && safeEqual(presented, usable.admin)) return;
    if (usable.ro !== null && safeEqual(presented, usable.ro)) {
      const readMethod = req.method === 'GET' || req.method === 'HEAD';
      if (readMethod && READ_ONLY_ALLOWED.some((re) => re.test(path))) return;
      throw new DaemonError(
        403,
        'auth',
        'insufficient_access',
        'the read-only token cannot perform this request; use the admin token',
      );
    }
    throw this.fail(req, unauthorized('invalid_token', 'the bearer token is not recognised'));
  }
}

function safeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

const LOOPBACK_ORIGIN = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/;

export class CorsPolicy {
  private readonly exact: Set<string>;
  constructor(allow: string[]) {
    this.exact = new Set(allow);
  }
  allows(origin: string): boolean {
    return this.exact.size > 0 ? this.exact.has(origin) : LOOPBACK_ORIGIN.test(origin);
  }
  /** Returns true when the request was fully answered (preflight). */
  handle(req: FastifyRequest, reply: FastifyReply): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return false;
    if (!this.allows(origin)) {
      throw new DaemonError(
        403,
        'cors',
        'origin_not_allowed',
        `origin ${origin} is not allowed by the CORS policy`,
      );
    }
    reply.header('access-control-allow-origin', origin);
    reply.header('vary', 'origin, access-control-request-method, access-control-request-headers');
    if (req.method === 'OPTIONS') {
      reply
        .code(204)
        .header('access-control-allow-methods', 'GET,HEAD,POST,PUT,PATCH,DELETE,OPTIONS')
        .header(
          'access-control-allow-headers',
          'authorization,content-type,x-kheish-daemon-token,x-kheish-daemon-url,last-event-id,idempotency-key',
        )
        .header('access-control-max-age', '600')
        .send();
      return true;
    }
    return false;
  }
}
