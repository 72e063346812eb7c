// The task runner's per-container caches: an instance is read once per lifetime, its password
// once per instance version, a password change is seen at the next instance version, and a
// version written moments ago (its new password may not be stored yet) is never cached.
import { describe, expect, it } from 'vitest';
import type { SecretStore } from '../../domain/common/ports.js';
import type { Instance } from '../../domain/inventory/instances.js';
import type { InstanceRepo } from '../../domain/inventory/ports.js';
import { SETTLE_MS, runnerCache } from '../../functions/shared/runner-cache.js';

const T0 = Date.parse('2026-12-01T00:00:00Z');

function world() {
  let clock = T0;
  const reads = { instance: 0, secret: 0 };
  const stored = {
    instance: {
      id: 'pg', title: 'PG', engine: 'POSTGRES', environment: 'prod', state: 'ACTIVE', version: 1,
      createTime: new Date(T0 - 3_600_000).toISOString(), updateTime: new Date(T0 - 3_600_000).toISOString(),
      dataSources: [{ type: 'ADMIN', host: 'db', port: 5432, username: 'admin', passwordSecret: 'instances/pg/admin' }],
    } as unknown as Instance,
    password: 'first',
  };
  const repo = {
    get: async (id: string) => {
      reads.instance++;
      return id === 'pg' ? { ...stored.instance } : undefined;
    },
    listAll: async () => [stored.instance],
  } as unknown as InstanceRepo;
  const secrets: SecretStore = {
    get: async () => {
      reads.secret++;
      return stored.password;
    },
    put: async (_n, v) => {
      stored.password = v;
    },
    delete: async () => undefined,
  };
  const cache = runnerCache(repo, secrets, { instanceTtlMs: 15_000, secretTtlMs: 300_000, now: () => clock });
  /** What the runner does per task: the instance, then its ADMIN password. */
  const task = async () => {
    const instance = await cache.instances.get('pg');
    return { instance, password: await cache.secrets.get(instance!.dataSources[0]!.passwordSecret!) };
  };
  return { reads, stored, cache, task, tick: (ms: number) => (clock += ms), now: () => clock };
}

describe('the runner cache', () => {
  it('reads the instance once per lifetime and its password once per instance version', async () => {
    // Prepare
    const w = world();

    // Act: 25 tasks of a batch in one container, within the instance lifetime
    for (let i = 0; i < 25; i++) expect((await w.task()).password).toBe('first');

    // Assess
    expect(w.reads).toEqual({ instance: 1, secret: 1 });
  });

  it('sees an edit of the instance after its lifetime, and a changed password at the new version', async () => {
    // Prepare
    const w = world();
    await w.task();

    // Act: the password changes (a new instance version, then the secret), settles, and the lifetime passes
    w.stored.instance = { ...w.stored.instance, version: 2, updateTime: new Date(w.now()).toISOString() };
    w.stored.password = 'second';
    const during = await w.task();
    w.tick(15_001 + SETTLE_MS);
    const after = await w.task();
    const again = await w.task();

    // Assess: the old instance until its lifetime ends, then the new password, then cached again
    expect(during).toMatchObject({ instance: { version: 1 }, password: 'first' });
    expect(after).toMatchObject({ instance: { version: 2 }, password: 'second' });
    expect(again.password).toBe('second');
    expect(w.reads).toEqual({ instance: 2, secret: 2 });
  });

  it('never caches the password of a version written moments ago: its new password may still be on the way', async () => {
    // Prepare: the instance item was just written; its new secret is not stored yet
    const w = world();
    w.stored.instance = { ...w.stored.instance, version: 2, updateTime: new Date(w.now()).toISOString() };

    // Act
    const before = await w.task();
    w.stored.password = 'second';
    const after = await w.task();

    // Assess
    expect(before.password).toBe('first');
    expect(after.password).toBe('second');
    expect(w.reads.secret).toBe(2);
  });

  it('keeps no failed read, and reads a password again once its lifetime ends', async () => {
    // Prepare
    const w = world();
    let fail = true;
    const failing = runnerCache(
      { get: async () => (fail ? Promise.reject(new Error('throttled')) : w.stored.instance) } as unknown as InstanceRepo,
      { get: async () => (w.reads.secret++, w.stored.password), put: async () => undefined, delete: async () => undefined },
      { now: w.now },
    );

    // Act
    await expect(failing.instances.get('pg')).rejects.toThrow('throttled');
    fail = false;
    const instance = await failing.instances.get('pg');
    await failing.secrets.get('instances/pg/admin');
    w.tick(5 * 60_000 + 1);
    await failing.instances.get('pg');
    await failing.secrets.get('instances/pg/admin');

    // Assess
    expect(instance?.id).toBe('pg');
    expect(w.reads.secret).toBe(2);
  });
});
