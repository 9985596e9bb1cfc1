// The store's write path (src/store/store.ts): which refused writes count as storage faults.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { RunStopped } from '../../src/engine/run-guard.ts';
import { errors } from '../../src/errors/daemon-error.ts';
import { Store } from '../../src/store/store.ts';
import { tempDir } from '../helpers/daemon.ts';

test('a domain refusal or a stopped run is not a write error; anything else is', async () => {
  const dir = tempDir('kheish-store-write-');
  const store = await Store.open({ stateRoot: dir });
  try {
    const refuse = (err: unknown) =>
      store.write(async () => {
        throw err;
      });
    await assert.rejects(refuse(errors.runNotFound('run-x')));
    await assert.rejects(refuse(new RunStopped('run run-x is cancelled')));
    assert.equal(store.writeErrors, 0, 'expected refusals leave storage healthy');
    await assert.rejects(refuse(new Error('disk on fire')));
    assert.equal(store.writeErrors, 1);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
