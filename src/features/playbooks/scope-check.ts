// Flow start's scope gate (api-collab §3.3): a session whose effective capability or credential
// scope is wider than the manifest's requirement is refused. "Not wider" (decision 394): for every
// allow/deny pair the requirement names, each of the session's allow entries is covered by the
// requirement's allow list (an empty session allow list admits everything, so it is wider), and
// each of the requirement's deny entries is covered by the session's deny list. A session that
// denies `*` on a pair admits nothing there and is never wider.
import { listCovers } from '../../engine/capability-scope.ts';

type Lists = Record<string, string[] | undefined>;

/** The reasons the session is wider (empty: within the requirement). */
export function widerThan(session: Lists | null, required: Lists | undefined): string[] {
  if (!required) return [];
  const reasons: string[] = [];
  const s = session ?? {};
  const bases = new Set(
    Object.keys(required)
      .filter((k) => k.endsWith('_allow') || k.endsWith('_deny'))
      .map((k) => k.replace(/_(allow|deny)$/, '')),
  );
  for (const base of bases) {
    const reqAllow = required[`${base}_allow`] ?? [];
    const reqDeny = required[`${base}_deny`] ?? [];
    const allow = s[`${base}_allow`] ?? [];
    const deny = s[`${base}_deny`] ?? [];
    if (deny.includes('*')) continue;
    if (reqAllow.length) {
      if (!allow.length) reasons.push(`${base}_allow is unrestricted (requires ${reqAllow.join(', ')})`);
      for (const e of allow)
        if (!listCovers(reqAllow, e))
          reasons.push(`${base}_allow admits ${e}, outside ${reqAllow.join(', ')}`);
    }
    for (const d of reqDeny) if (!listCovers(deny, d)) reasons.push(`${base}_deny does not deny ${d}`);
  }
  return reasons;
}
