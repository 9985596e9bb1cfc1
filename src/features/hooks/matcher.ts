// Hook matchers (docs/decisions.md #131): a matcher is tested against the invocation's subject
// (a tool name, a setting name...). Alternatives are separated by `|`; each is an exact name, a
// prefix ending in `*` (as permission rules), or `*`. No matcher (or `*`) matches every subject,
// including none; any other matcher needs a subject.

const ALTERNATIVE = /^(\*|[A-Za-z0-9_.:/-]+\*?)$/;

export type Matcher = (subject: string | undefined) => boolean;

/** The compiled matcher, or a problem to report. */
export function compileMatcher(matcher: string | undefined): Matcher | string {
  if (matcher === undefined || matcher.trim() === '*') return () => true;
  const parts = matcher.split('|').map((p) => p.trim());
  const bad = parts.find((p) => !ALTERNATIVE.test(p));
  if (bad !== undefined)
    return `\`matcher\` alternative ${JSON.stringify(bad)} is not a name, a prefix ending in \`*\`, or \`*\``;
  return (subject) =>
    subject !== undefined &&
    parts.some((p) => p === '*' || (p.endsWith('*') ? subject.startsWith(p.slice(0, -1)) : subject === p));
}
