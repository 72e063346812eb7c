// Per-container caches for the task runner: a warm container runs task after task of a batch on
// the same instances, and read the instance and its password once per task (a GetItem, and on AWS
// a Secrets Manager call). Both are kept for a bounded time:
//  - an instance for `instanceTtlMs` (default 15 s): an edit (host, state, a deletion) reaches
//    every runner within that time;
//  - a password by its instance's version (every password change writes a new instance version),
//    so a changed password is read again as soon as the new instance is seen, and at most
//    `secretTtlMs` (default 5 min) in any case. updateInstance writes the item before the secret,
//    so a version younger than SETTLE_MS (longer than an HTTP function may run) is never cached:
//    its password may still be the old one.
import type { SecretStore } from '../../domain/common/ports.js';
import type { Instance } from '../../domain/inventory/instances.js';
import type { InstanceRepo } from '../../domain/inventory/ports.js';

export interface RunnerCacheOptions {
  instanceTtlMs?: number;
  secretTtlMs?: number;
  /** Entries kept per cache; the oldest goes first. */
  maxEntries?: number;
  now?: () => number;
}

interface Entry<T> {
  value: Promise<T>;
  until: number;
}

/** A map of promises with a lifetime and a size bound; a failed read is not kept. */
class TtlCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number,
  ) {}

  get(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && hit.until > this.now()) return hit.value;
    const value = load();
    this.entries.delete(key);
    this.entries.set(key, { value, until: this.now() + this.ttlMs });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    return value;
  }

  delete(prefix: string): void {
    for (const key of this.entries.keys()) if (key.startsWith(prefix)) this.entries.delete(key);
  }
}

const SECRET_OF_INSTANCE = /^instances\/([^/]+)\//;
/** An instance version younger than this may still have its new password on the way. */
export const SETTLE_MS = 30_000;

/** The runner's instance repo and secret store, each read through a bounded cache. */
export function runnerCache(instances: InstanceRepo, secrets: SecretStore, options: RunnerCacheOptions = {}): { instances: InstanceRepo; secrets: SecretStore } {
  const now = options.now ?? Date.now;
  const max = options.maxEntries ?? 256;
  const instanceCache = new TtlCache<Instance | undefined>(options.instanceTtlMs ?? 15_000, max, now);
  const secretCache = new TtlCache<string | undefined>(options.secretTtlMs ?? 5 * 60_000, max, now);
  /** The version of each instance as last read, once settled: a password is cached per instance version. */
  const versions = new Map<string, number>();

  // Only `get` is cached; every other method is the repo's own (the runner calls `get` only).
  const cachedInstances = Object.create(instances) as InstanceRepo;
  cachedInstances.get = async (id: string) => {
    const instance = await instanceCache.get(id, () => instances.get(id));
    if (instance && Date.parse(instance.updateTime) + SETTLE_MS <= now()) versions.set(id, instance.version);
    else versions.delete(id);
    return instance;
  };

  const cachedSecrets: SecretStore = {
    get: (name) => {
      const instance = SECRET_OF_INSTANCE.exec(name)?.[1];
      const version = instance === undefined ? undefined : versions.get(instance);
      // Without a known, settled instance version there is nothing to key by: read it.
      if (version === undefined) return secrets.get(name);
      return secretCache.get(`${name}@${version}`, () => secrets.get(name));
    },
    put: async (name, value) => {
      secretCache.delete(`${name}@`);
      await secrets.put(name, value);
    },
    delete: async (name) => {
      secretCache.delete(`${name}@`);
      await secrets.delete(name);
    },
  };
  return { instances: cachedInstances, secrets: cachedSecrets };
}
