// Wake-ups keyed by id (a run, a task, a clarification): a waiter sleeps until `notify(key)`, its
// re-check period, or its signal — whichever comes first. The caller re-reads the durable state
// after every wake-up, so a missed notification costs at most one period, never a hang.
export class KeyedWaiters {
  private readonly waiters = new Map<string, Set<() => void>>();

  notify(key: string): void {
    const set = this.waiters.get(key);
    if (!set) return;
    this.waiters.delete(key);
    for (const w of set) w();
  }

  /** Wakes every waiter (draining). */
  notifyAll(): void {
    for (const key of [...this.waiters.keys()]) this.notify(key);
  }

  wait(key: string, opts: { signal?: AbortSignal; recheckMs?: number } = {}): Promise<void> {
    const { signal } = opts;
    return new Promise<void>((resolve) => {
      const set = this.waiters.get(key) ?? new Set();
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, opts.recheckMs ?? 1000));
      set.add(done);
      this.waiters.set(key, set);
      if (signal?.aborted) done();
      else signal?.addEventListener('abort', done, { once: true });
    });
  }
}
