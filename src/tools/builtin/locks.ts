// Per-path locks for the mutating tools: two edits of one file serialize instead of one silently
// overwriting the other. Keys are canonical paths, so `a.txt`, `./a.txt` and a path through a
// symlinked directory share one lock. In-process only: one daemon owns a state root, and other
// writers of the workspace (a shell, an editor) are guarded by `expected_sha256` instead.

const tails = new Map<string, Promise<void>>();

async function acquire(key: string): Promise<() => void> {
  const previous = tails.get(key) ?? Promise.resolve();
  let release!: () => void;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const tail = previous.then(() => held);
  tails.set(key, tail);
  await previous;
  return () => {
    release();
    if (tails.get(key) === tail) tails.delete(key);
  };
}

/** Runs `fn` holding every lock in `keys`, taken in sorted order so two callers cannot deadlock. */
export async function withPathLocks<T>(keys: string[], fn: () => Promise<T>): Promise<T> {
  const releases: Array<() => void> = [];
  try {
    for (const key of [...new Set(keys)].sort()) releases.push(await acquire(key));
    return await fn();
  } finally {
    for (const release of releases.reverse()) release();
  }
}

/** Number of paths currently locked or waited on (for tests). */
export function lockedPathCount(): number {
  return tails.size;
}
