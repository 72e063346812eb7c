// First-start (local) and deploy-time (custom resource) seed: the same records either way.
// Every write is create-if-absent, so seeding again changes nothing.
import { randomBytes } from 'node:crypto';
import { normalizeEmail, systemBot, type User } from '../../../domain/access/users.js';
import { newWorkspace } from '../../../domain/access/workspace.js';
import { DEFAULT_PROJECT } from '../../../domain/inventory/projects.js';
import { keys } from './keys.js';
import { DynamoEnvironmentRepo, DynamoUserRepo, type DynamoStore } from './store.js';
import { DynamoConfigRepo } from './support.js';

export interface SeedOptions {
  adminEmail?: string;
  /** Seed `test` then `prod` (prod requires approval) when there are no environments yet. */
  environments?: boolean;
  now?: Date;
}

export interface SeedResult {
  admin?: User;
}

export async function seed(store: DynamoStore, options: SeedOptions = {}): Promise<SeedResult> {
  const now = options.now ?? new Date();
  const t = now.toISOString();
  await store.putIfAbsent('Workspace', keys.workspace(), { ...newWorkspace(now), version: 1 });
  await store.putIfAbsent('Counter', keys.counter('users'), { n: 1 });
  const bot = systemBot(now);
  await store.putIfAbsent('User', keys.user(bot.id), bot);
  await store.putIfAbsent('UserEmail', keys.userEmail(bot.email), { userId: bot.id });
  // The default project holds databases no project claimed yet; admins and DBAs manage it.
  await store.putIfAbsent('Project', keys.project(DEFAULT_PROJECT), {
    id: DEFAULT_PROJECT, title: 'Default project', state: 'ACTIVE', bindings: [], createTime: t, updateTime: t, version: 1,
  });
  await new DynamoConfigRepo(store).ensurePageTokenKey(randomBytes(32));

  const result: SeedResult = {};
  if (options.adminEmail) {
    const users = new DynamoUserRepo(store);
    const email = normalizeEmail(options.adminEmail);
    result.admin =
      (await users.getByEmail(email)) ??
      (await users.create({ email, title: 'Admin', role: 'workspaceAdmin', userType: 'USER', state: 'ACTIVE', createTime: t, updateTime: t }));
  }
  if (options.environments) {
    const envs = new DynamoEnvironmentRepo(store);
    if ((await envs.listAll()).length === 0) {
      await envs.create({ id: 'test', title: 'Test', order: 0, requireApproval: false, state: 'ACTIVE', createTime: t, updateTime: t }, []);
      await envs.create({ id: 'prod', title: 'Prod', order: 1, requireApproval: true, state: 'ACTIVE', createTime: t, updateTime: t }, []);
    }
  }
  return result;
}
