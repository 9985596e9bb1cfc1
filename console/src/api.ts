// The console's one way to the daemon: the project's SDK on this page's origin (same-origin, so no
// CORS), with the bearer token the user signed in with. The token stays in this tab
// (sessionStorage) unless the user asked to be remembered on this computer (localStorage).
import {
  DaemonProblemError,
  DaemonTimeoutError,
  DaemonUnreachableError,
  Kheish,
} from '../../src/sdk/index.ts';

export { DaemonProblemError, DaemonUnreachableError, Kheish };

const TOKEN_KEY = 'kheish-air.token';

export function storedToken(): string | undefined {
  return sessionStorage.getItem(TOKEN_KEY) ?? localStorage.getItem(TOKEN_KEY) ?? undefined;
}

export function saveToken(token: string, remember: boolean): void {
  forgetToken();
  (remember ? localStorage : sessionStorage).setItem(TOKEN_KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(TOKEN_KEY);
}

export function makeClient(token?: string): Kheish {
  // Streams stay open while the page does; a silent one is reconnected by the SDK.
  return new Kheish({ baseUrl: location.origin, token, timeoutMs: 15_000, streamIdleTimeoutMs: 20_000 });
}

/** True when the daemon could not be reached at all (down, restarting, network gone). */
export function isUnreachable(err: unknown): boolean {
  return err instanceof DaemonUnreachableError || err instanceof DaemonTimeoutError;
}

/** True for a 401 (no token, or a wrong one): the page asks for a token again. */
export function needsSignIn(err: unknown): boolean {
  return err instanceof DaemonProblemError && err.status === 401;
}

/** The sentence to show for an error: the problem document's `detail` when the daemon sent one. */
export function describe(err: unknown): string {
  if (err instanceof DaemonProblemError) return err.detail || err.title;
  if (isUnreachable(err)) return 'the runtime is not answering';
  return err instanceof Error ? err.message : String(err);
}
