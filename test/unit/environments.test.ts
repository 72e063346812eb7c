import { describe, expect, it } from 'vitest';
import { etagOf } from '../../domain/common/values.js';
import { MAX_ENVIRONMENTS, createEnvironment, orderedForListing, rankOf, reorderEnvironments, setEnvironmentState, toEnvironmentResource, updateEnvironment } from '../../domain/inventory/environments.js';
import { SluiceError } from '../../domain/common/errors.js';
import { FakeEnvironments, fakeDeps } from '../support/fake-repos.js';

const seeded = () =>
  fakeDeps(
    new FakeEnvironments([
      { id: 'test', title: 'Test', order: 0, requireApproval: false },
      { id: 'prod', title: 'Prod', order: 1, requireApproval: true },
    ]),
  );

async function rejection(p: Promise<unknown>): Promise<SluiceError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  if (e instanceof SluiceError) return e;
  throw new Error(`expected a SluiceError, got ${String(e)}`);
}

describe('createEnvironment', () => {
  it('appends at the end of the pipeline when no order is given', async () => {
    // Prepare
    const deps = seeded();

    // Act
    const { env, all } = await createEnvironment(deps, { id: 'dev', title: 'Dev' });

    // Assess
    expect(deps.environments.activeIds()).toEqual(['test', 'prod', 'dev']);
    expect(rankOf(all, env.id)).toBe(2);
    expect(env.requireApproval).toBe(false);
    expect(env.state).toBe('ACTIVE');
  });

  it('inserts at `order`, moving that environment and every later one down a place', async () => {
    // Prepare
    const deps = seeded();

    // Act
    const { env, all } = await createEnvironment(deps, { id: 'staging', title: 'Staging', order: 1, rolloutPolicy: { requireApproval: true } });

    // Assess
    expect(deps.environments.activeIds()).toEqual(['test', 'staging', 'prod']);
    expect(rankOf(all, 'staging')).toBe(1);
    expect(rankOf(all, 'prod')).toBe(2);
    expect(env.requireApproval).toBe(true);
    expect(deps.environments.rows.get('test')!.version).toBe(1);
    expect(deps.environments.rows.get('prod')!.version).toBe(2);
  });

  it('inserts first at order 0, and clamps an order past the end to the end', async () => {
    // Prepare
    const deps = seeded();

    // Act
    await createEnvironment(deps, { id: 'dev', title: 'Dev', order: 0 });
    await createEnvironment(deps, { id: 'dr', title: 'DR', order: 99 });

    // Assess
    expect(deps.environments.activeIds()).toEqual(['dev', 'test', 'prod', 'dr']);
  });

  it('refuses an id that exists, even deleted, and writes nothing', async () => {
    // Prepare
    const deps = seeded();
    await setEnvironmentState(deps, 'test', 'DELETED', undefined);
    const writes = deps.environments.writes;

    // Act
    const live = await rejection(createEnvironment(deps, { id: 'prod', title: 'Again' }));
    const deleted = await rejection(createEnvironment(deps, { id: 'test', title: 'Again' }));

    // Assess
    expect([live.status, deleted.status]).toEqual(['ALREADY_EXISTS', 'ALREADY_EXISTS']);
    expect(live.message).toBe('environments/prod already exists');
    expect(deps.environments.writes).toBe(writes);
  });

  it(`refuses a ${MAX_ENVIRONMENTS + 1}th active environment`, async () => {
    // Prepare
    const deps = fakeDeps(new FakeEnvironments(Array.from({ length: MAX_ENVIRONMENTS }, (_, i) => ({ id: `env-${i}`, title: `E${i}`, order: i, requireApproval: false }))));

    // Act
    const e = await rejection(createEnvironment(deps, { id: 'one-more', title: 'One more' }));

    // Assess
    expect(e.status).toBe('FAILED_PRECONDITION');
    expect(deps.environments.rows.has('one-more')).toBe(false);
  });
});

describe('reorderEnvironments', () => {
  it('sets the order of every active environment in one write', async () => {
    // Prepare
    const deps = seeded();
    await createEnvironment(deps, { id: 'dev', title: 'Dev' });
    const writes = deps.environments.writes;

    // Act
    const ordered = await reorderEnvironments(deps, { environments: ['environments/dev', 'environments/prod', 'environments/test'] });

    // Assess
    expect(ordered.map((e) => e.id)).toEqual(['dev', 'prod', 'test']);
    expect(deps.environments.activeIds()).toEqual(['dev', 'prod', 'test']);
    expect(deps.environments.writes).toBe(writes + 1);
  });

  it.each([
    [['environments/test'], 'environments', 'must list every active environment; missing environments/prod'],
    [['environments/test', 'environments/prod', 'environments/test'], 'environments[2]', 'environments/test is listed twice'],
    [['environments/test', 'environments/prod', 'environments/nope'], 'environments[2]', 'environments/nope is not an active environment'],
    [['prod', 'environments/test'], 'environments[0]', 'must be an environment name like environments/prod'],
  ])('refuses %j with a 400 on %s and writes nothing', async (names, field, description) => {
    // Prepare
    const deps = seeded();

    // Act
    const e = await rejection(reorderEnvironments(deps, { environments: names }));

    // Assess
    expect(e.status).toBe('INVALID_ARGUMENT');
    expect(e.details).toEqual([{ field, description }]);
    expect(deps.environments.writes).toBe(0);
    expect(deps.environments.activeIds()).toEqual(['test', 'prod']);
  });

  it('refuses a deleted environment, which is no longer part of the pipeline', async () => {
    // Prepare
    const deps = seeded();
    await setEnvironmentState(deps, 'test', 'DELETED', undefined);

    // Act
    const e = await rejection(reorderEnvironments(deps, { environments: ['environments/prod', 'environments/test'] }));

    // Assess
    expect(e.details[0]!.description).toBe('environments/test is not an active environment');
  });

  it('writes nothing when the order does not change', async () => {
    // Prepare
    const deps = seeded();

    // Act
    const ordered = await reorderEnvironments(deps, { environments: ['environments/test', 'environments/prod'] });

    // Assess
    expect(ordered.map((e) => e.id)).toEqual(['test', 'prod']);
    expect(deps.environments.writes).toBe(0);
  });
});

describe('delete and undelete', () => {
  it('hides a deleted environment from the pipeline and appends it at the end on undelete', async () => {
    // Prepare
    const deps = seeded();
    await createEnvironment(deps, { id: 'dev', title: 'Dev' });

    // Act
    const deleted = await setEnvironmentState(deps, 'test', 'DELETED', undefined);
    const afterDelete = deps.environments.activeIds();
    const restored = await setEnvironmentState(deps, 'test', 'ACTIVE', undefined);

    // Assess
    expect(deleted.state).toBe('DELETED');
    expect(afterDelete).toEqual(['prod', 'dev']);
    expect(restored.state).toBe('ACTIVE');
    expect(deps.environments.activeIds()).toEqual(['prod', 'dev', 'test']);
  });

  it('lists deleted environments after the pipeline, without a rank, only when asked', async () => {
    // Prepare
    const deps = seeded();
    await setEnvironmentState(deps, 'test', 'DELETED', undefined);
    const all = await deps.environments.listAll();

    // Act
    const active = orderedForListing(all, false).map(({ env, rank }) => [env.id, rank]);
    const everything = orderedForListing(all, true).map(({ env, rank }) => [env.id, rank]);
    const resource = toEnvironmentResource(all.find((e) => e.id === 'test')!, undefined);

    // Assess
    expect(active).toEqual([['prod', 0]]);
    expect(everything).toEqual([['prod', 0], ['test', undefined]]);
    expect(resource).not.toHaveProperty('order');
  });

  it('refuses deleting twice, undeleting an active one, and a stale If-Match', async () => {
    // Prepare
    const deps = seeded();
    await setEnvironmentState(deps, 'test', 'DELETED', undefined);
    const writes = deps.environments.writes;

    // Act
    const failures = [
      await rejection(setEnvironmentState(deps, 'test', 'DELETED', undefined)),
      await rejection(setEnvironmentState(deps, 'prod', 'ACTIVE', undefined)),
      await rejection(setEnvironmentState(deps, 'prod', 'DELETED', etagOf('environments/prod', 0))),
      await rejection(setEnvironmentState(deps, 'nope', 'DELETED', undefined)),
    ];

    // Assess
    expect(failures.map((e) => e.status)).toEqual(['FAILED_PRECONDITION', 'FAILED_PRECONDITION', 'ABORTED', 'NOT_FOUND']);
    expect(deps.environments.writes).toBe(writes);
  });
});

describe('updateEnvironment', () => {
  it('changes only what the mask names (a nested path selects its field)', async () => {
    // Prepare
    const deps = seeded();

    // Act
    const env = await updateEnvironment(deps, 'test', { title: 'Ignored', rolloutPolicy: { requireApproval: true } }, 'rolloutPolicy.requireApproval', undefined);

    // Assess
    expect(env.requireApproval).toBe(true);
    expect(env.title).toBe('Test');
    expect(deps.environments.rows.get('test')).toMatchObject({ title: 'Test', requireApproval: true, version: 2 });
  });

  it('refuses order in the mask (reorder is its own method) and a stale etag, writing nothing', async () => {
    // Prepare
    const deps = seeded();

    // Act
    const order = await rejection(updateEnvironment(deps, 'test', { order: 1 }, 'order', undefined));
    const stale = await rejection(updateEnvironment(deps, 'test', { title: 'X', etag: etagOf('environments/test', 7) }, undefined, undefined));

    // Assess
    expect(order.details).toEqual([{ field: 'updateMask', description: 'order is not mutable' }]);
    expect(stale.status).toBe('ABORTED');
    expect(deps.environments.writes).toBe(0);
  });

  it('refuses to change a deleted environment', async () => {
    // Prepare
    const deps = seeded();
    await setEnvironmentState(deps, 'test', 'DELETED', undefined);

    // Act
    const e = await rejection(updateEnvironment(deps, 'test', { title: 'X' }, undefined, undefined));

    // Assess
    expect(e.status).toBe('FAILED_PRECONDITION');
  });
});
