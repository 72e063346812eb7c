// Instance rules with in-memory ports: data sources, environments, write-only passwords,
// validateOnly, updates of passwords and soft delete.
import { describe, expect, it } from 'vitest';
import { etagOf } from '../../domain/common/values.js';
import { SluiceError } from '../../domain/common/errors.js';
import { createInstance, setInstanceState, testConnection, toInstanceResource, updateInstance } from '../../domain/inventory/instances.js';
import type { Deps, SqlDeps } from '../../domain/inventory/ports.js';
import { FakeDatabases, FakeInstances, FakeSecrets, FakeSql } from '../support/fake-inventory.js';
import { FakeEnvironments, fakeDeps } from '../support/fake-repos.js';

async function rejection(p: Promise<unknown>): Promise<SluiceError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  if (e instanceof SluiceError) return e;
  throw new Error(`expected a SluiceError, got ${String(e)}`);
}

const PASSWORD = 'Tr0ub4dor&3-unit';

/** Environments test (active) and old (deleted); a server that accepts PASSWORD. */
function workspace() {
  const environments = new FakeEnvironments([
    { id: 'test', title: 'Test', order: 0, requireApproval: false },
    { id: 'old', title: 'Old', order: 1, requireApproval: false },
  ]);
  environments.rows.get('old')!.state = 'DELETED';
  const instances = new FakeInstances();
  const secrets = new FakeSecrets();
  const sql = new FakeSql();
  sql.password = PASSWORD;
  const deps: Deps & SqlDeps = { ...fakeDeps(environments), instances, databases: new FakeDatabases(), secrets, sql };
  return { deps, instances, secrets, sql };
}

const ADMIN = { type: 'ADMIN', host: 'db.internal', port: 5432, username: 'sluice', password: PASSWORD };
const body = (extra: Record<string, unknown> = {}) => ({
  id: 'pg-test', title: 'PG test', engine: 'POSTGRES', environment: 'environments/test', dataSources: [ADMIN], ...extra,
});

describe('createInstance', () => {
  it.each([
    ['no ADMIN data source', [{ ...ADMIN, type: 'READ_ONLY' }], 'dataSources: must hold exactly one ADMIN data source (found 0)'],
    ['two ADMIN data sources', [ADMIN, { ...ADMIN, host: 'other' }], 'dataSources: must hold exactly one ADMIN data source (found 2)'],
    ['two READ_ONLY data sources', [ADMIN, { ...ADMIN, type: 'READ_ONLY' }, { ...ADMIN, type: 'READ_ONLY' }], 'dataSources: must be at most 2'],
    ['a port out of range', [{ ...ADMIN, port: 70000 }], 'dataSources.0.port: must be at most 65535'],
    ['a URL for a host', [{ ...ADMIN, host: 'postgres://db.internal:5432' }], 'dataSources.0.host: must be a host name or an IP address (no scheme, port or path)'],
  ])('refuses %s and writes nothing', async (_case, dataSources, message) => {
    // Prepare
    const { deps, instances, secrets } = workspace();

    // Act
    const e = await rejection(createInstance(deps, body({ dataSources }), false));

    // Assess
    expect(e.status).toBe('INVALID_ARGUMENT');
    expect(e.message).toBe(message);
    expect(instances.writes + secrets.writes).toBe(0);
  });

  it.each([
    ['does not exist', 'environments/nope', 'environment: environments/nope does not exist'],
    ['is deleted', 'environments/old', 'environment: environments/old is deleted'],
    ['is not an environment name', 'prod', 'environment: must be an environment name like environments/prod'],
  ])('refuses an environment that %s', async (_case, environment, message) => {
    // Prepare
    const { deps, instances } = workspace();

    // Act
    const e = await rejection(createInstance(deps, body({ environment }), false));

    // Assess
    expect(e.message).toBe(message);
    expect(instances.writes).toBe(0);
  });

  it('keeps the password in the secret store only; the resource says hasPassword', async () => {
    // Prepare
    const { deps, instances, secrets } = workspace();

    // Act
    const { instance } = await createInstance(deps, body({ dataSources: [ADMIN, { ...ADMIN, type: 'READ_ONLY', username: 'reader', password: undefined }] }), false);
    const resource = toInstanceResource(instance);

    // Assess
    expect(secrets.values).toEqual(new Map([['instances/pg-test/admin', PASSWORD]]));
    expect(JSON.stringify([...instances.rows.values()])).not.toContain(PASSWORD);
    expect(JSON.stringify(resource)).not.toContain(PASSWORD);
    expect(resource.dataSources).toEqual([
      { type: 'ADMIN', host: 'db.internal', port: 5432, username: 'sluice', hasPassword: true },
      { type: 'READ_ONLY', host: 'db.internal', port: 5432, username: 'reader', hasPassword: false },
    ]);
  });

  it('does not check the connection unless asked: an unreachable server can be registered', async () => {
    // Prepare
    const { deps, sql } = workspace();
    sql.reachable = false;

    // Act
    const { instance, validatedOnly } = await createInstance(deps, body(), false);

    // Assess
    expect(validatedOnly).toBe(false);
    expect(instance.version).toBe(1);
    expect(sql.connections).toHaveLength(0);
  });

  it('with validateOnly, connects with the ADMIN data source and writes nothing', async () => {
    // Prepare
    const { deps, instances, secrets, sql } = workspace();

    // Act
    const { instance, validatedOnly } = await createInstance(deps, body(), true);

    // Assess
    expect(validatedOnly).toBe(true);
    expect(toInstanceResource(instance)).toMatchObject({ name: 'instances/pg-test', state: 'ACTIVE', etag: etagOf('instances/pg-test', 1) });
    expect(sql.connections).toEqual([{ engine: 'POSTGRES', host: 'db.internal', port: 5432, username: 'sluice', password: PASSWORD }]);
    expect(instances.writes + secrets.writes).toBe(0);
  });

  it('with validateOnly, answers the driver message as a 400 on the ADMIN data source, writing nothing', async () => {
    // Prepare
    const { deps, instances, secrets } = workspace();

    // Act
    const e = await rejection(createInstance(deps, body({ dataSources: [{ ...ADMIN, type: 'READ_ONLY' }, { ...ADMIN, password: 'wrong' }] }), true));

    // Assess
    expect(e.status).toBe('INVALID_ARGUMENT');
    expect(e.details).toEqual([{ field: 'dataSources[1]', description: 'cannot connect: password authentication failed for user "sluice"' }]);
    expect(instances.writes + secrets.writes).toBe(0);
  });

  it('refuses a taken id, even one of a deleted instance, before touching a secret', async () => {
    // Prepare
    const { deps, secrets } = workspace();
    await createInstance(deps, body(), false);
    await setInstanceState(deps, 'pg-test', 'DELETED', undefined);
    const writes = secrets.writes;

    // Act
    const e = await rejection(createInstance(deps, body({ dataSources: [{ ...ADMIN, password: 'another' }] }), false));

    // Assess
    expect(e.status).toBe('ALREADY_EXISTS');
    expect(secrets.writes).toBe(writes);
    expect(secrets.values.get('instances/pg-test/admin')).toBe(PASSWORD);
  });

  it('leaves no instance behind when its password cannot be stored', async () => {
    // Prepare
    const { deps, instances, secrets } = workspace();
    secrets.put = async () => {
      throw new Error('secret store down');
    };

    // Act
    const failure = await createInstance(deps, body(), false).catch((e: Error) => e.message);

    // Assess
    expect(failure).toBe('secret store down');
    expect(instances.rows.size).toBe(0);
  });
});

describe('updateInstance', () => {
  async function registered() {
    const w = workspace();
    const { instance } = await createInstance(w.deps, body({ dataSources: [ADMIN, { ...ADMIN, type: 'READ_ONLY', username: 'reader', password: 'ro-pass' }] }), false);
    return { ...w, instance };
  }
  const sources = (admin: Record<string, unknown> = {}, readOnly: Record<string, unknown> | null = {}) => ({
    dataSources: [
      { type: 'ADMIN', host: 'db.internal', port: 5432, username: 'sluice', ...admin },
      ...(readOnly ? [{ type: 'READ_ONLY', host: 'db.internal', port: 5432, username: 'reader', ...readOnly }] : []),
    ],
  });

  it('keeps a stored password when the PATCH omits it, even when echoing hasPassword back', async () => {
    // Prepare
    const { deps, secrets } = await registered();

    // Act
    const next = await updateInstance(deps, 'pg-test', sources({ port: 5433, hasPassword: true }), 'dataSources', undefined);

    // Assess
    expect(toInstanceResource(next).dataSources.map((d) => [d.type, d.port, d.hasPassword])).toEqual([['ADMIN', 5433, true], ['READ_ONLY', 5432, true]]);
    expect(secrets.values.get('instances/pg-test/admin')).toBe(PASSWORD);
  });

  it('replaces a password with a new one, and removes one sent empty or whose data source goes', async () => {
    // Prepare
    const { deps, secrets } = await registered();

    // Act
    const replaced = await updateInstance(deps, 'pg-test', sources({ password: 'new-pass' }), undefined, undefined);
    const cleared = await updateInstance(deps, 'pg-test', sources({ password: '' }, null), undefined, undefined);

    // Assess
    expect(toInstanceResource(replaced).dataSources.every((d) => d.hasPassword)).toBe(true);
    expect(toInstanceResource(cleared).dataSources).toEqual([{ type: 'ADMIN', host: 'db.internal', port: 5432, username: 'sluice', hasPassword: false }]);
    expect(secrets.values.size).toBe(0);
  });

  it('refuses a stale etag or an engine change, changing no password', async () => {
    // Prepare
    const { deps, secrets, instance } = await registered();
    await updateInstance(deps, 'pg-test', { title: 'Renamed' }, undefined, undefined);
    const writes = secrets.writes;

    // Act
    const stale = await rejection(updateInstance(deps, 'pg-test', sources({ password: 'lost' }), undefined, etagOf('instances/pg-test', instance.version)));
    const engine = await rejection(updateInstance(deps, 'pg-test', { engine: 'MYSQL', title: 'x' }, undefined, undefined));

    // Assess
    expect(stale.status).toBe('ABORTED');
    expect(engine.message).toBe('engine: cannot be changed; register another instance');
    expect(secrets.writes).toBe(writes);
  });

  it('moves an instance only to an active environment', async () => {
    // Prepare
    const { deps } = await registered();

    // Act
    const e = await rejection(updateInstance(deps, 'pg-test', { environment: 'environments/old' }, 'environment', undefined));

    // Assess
    expect(e.message).toBe('environment: environments/old is deleted');
  });
});

describe('testConnection and soft delete', () => {
  it('answers ok with the engine version, using the stored password', async () => {
    // Prepare
    const { deps, sql } = workspace();
    await createInstance(deps, body(), false);

    // Act
    const result = await testConnection(deps, 'pg-test');

    // Assess
    expect(result).toEqual({ ok: true, engineVersion: '15.4' });
    expect(sql.connections.at(-1)?.password).toBe(PASSWORD);
  });

  it('answers ok:false, not an error, when the stored password is missing', async () => {
    // Prepare
    const { deps, secrets } = workspace();
    await createInstance(deps, body(), false);
    secrets.values.clear();

    // Act
    const result = await testConnection(deps, 'pg-test');

    // Assess
    expect(result).toEqual({
      ok: false,
      error: 'the password of the ADMIN data source of instances/pg-test is missing from the secret store; set it again with PATCH',
    });
  });

  it('keeps the passwords of a deleted instance, which connects again once undeleted', async () => {
    // Prepare
    const { deps, secrets } = workspace();
    await createInstance(deps, body(), false);

    // Act
    await setInstanceState(deps, 'pg-test', 'DELETED', undefined);
    const whileDeleted = await rejection(testConnection(deps, 'pg-test'));
    await setInstanceState(deps, 'pg-test', 'ACTIVE', undefined);
    const after = await testConnection(deps, 'pg-test');

    // Assess
    expect(whileDeleted.message).toBe('instances/pg-test is deleted; undelete it first');
    expect(secrets.values.has('instances/pg-test/admin')).toBe(true);
    expect(after.ok).toBe(true);
  });
});
