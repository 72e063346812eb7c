// Instances: database servers Sluice manages, workspace-level (only workspace roles hold
// instances.*). Passwords are write-only: the entity holds the name of the secret that holds
// each data source's password, never the password, and no resource shows either.
import * as z from 'zod/mini';
import { lazySchema } from '../common/lazy.js';
import { ECHOED, StateSchema, Timestamp, Title, checkEtag, etagOf, parse, resolveUpdateMask, type ListOptions, type Page, type State } from '../common/values.js';
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError, fieldError } from '../common/errors.js';
import { USER_CHOSEN_ID, environmentName, instanceName, parseEnvironmentName } from '../common/names.js';
import type { OperationSchemas } from '../common/operations.js';
import { SqlConnectionError, type ConnectionResult, type ConnectionTarget, type Deps, type SqlDeps } from './ports.js';

export const ENGINES = ['POSTGRES', 'MYSQL'] as const;
export type Engine = (typeof ENGINES)[number];
export const DATA_SOURCE_TYPES = ['ADMIN', 'READ_ONLY'] as const;
export type DataSourceType = (typeof DATA_SOURCE_TYPES)[number];

export interface DataSource {
  type: DataSourceType;
  host: string;
  port: number;
  username: string;
  database?: string;
  /** Name of the secret holding the password (see secretName); absent: no password. */
  passwordSecret?: string;
}

export interface Instance {
  id: string;
  title: string;
  engine: Engine;
  /** Environment id. */
  environment: string;
  dataSources: DataSource[];
  state: State;
  createTime: string;
  updateTime: string;
  version: number;
}

/** The secret of one data source: one per data source, kept while the instance is soft-deleted. */
export const secretName = (instance: string, type: DataSourceType): string => `instances/${instance}/${type.toLowerCase()}`;

// Input schemas are built inside pure calls: the databases bundle imports this module but never
// parses an instance, so esbuild drops them there. (A pure mark on `z.int().check(...)` covers
// only the outer call, and esbuild ignores zod's own annotations across modules: BENCHMARKS.md.)
const pure = <T>(make: () => T): T => make();
/** Documents a rule API.md leaves open, in the generated OpenAPI document. */
const described = <S extends z.ZodMiniType>(schema: S, description: string): S => {
  z.globalRegistry.add(schema, { description });
  return schema;
};
// A host name (RFC 1123, underscores tolerated) or an IPv4/IPv6 address; no scheme, port or path.
const HOST = /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$|^[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*$/;
const Host = /* @__PURE__ */ lazySchema(() => z.string().check(z.minLength(1), z.maxLength(253), z.regex(HOST, 'must be a host name or an IP address (no scheme, port or path)')));
const Port = /* @__PURE__ */ lazySchema(() => z.int().check(z.minimum(1), z.maximum(65535)));
const Username = /* @__PURE__ */ lazySchema(() => z.string().check(z.minLength(1), z.maxLength(128)));
/** Write-only. An empty string on PATCH removes the stored password. */
const Password = /* @__PURE__ */ pure(() => {
  const schema = /* @__PURE__ */ lazySchema(() => z.string().check(z.maxLength(1024)));
  z.globalRegistry.add(schema, { writeOnly: true, description: 'Write-only: stored in the secret store, never returned, logged or written to the table.' });
  return schema;
});
const DatabaseField = /* @__PURE__ */ lazySchema(() => z.string().check(z.minLength(1), z.maxLength(64)));
const EngineSchema = /* @__PURE__ */ lazySchema(() => z.enum(ENGINES));
const DataSourceTypeSchema = /* @__PURE__ */ lazySchema(() => z.enum(DATA_SOURCE_TYPES));

const DataSourceInput = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    type: DataSourceTypeSchema,
    host: Host,
    port: Port,
    username: Username,
    password: z.optional(Password),
    database: z.optional(DatabaseField),
  }),
);

export const InstanceCreate = /* @__PURE__ */ pure(() =>
  described(
    lazySchema(() => z.strictObject({
      id: z.string().check(z.regex(USER_CHOSEN_ID)),
      title: Title,
      engine: EngineSchema,
      environment: z.string(),
      dataSources: z.array(DataSourceInput).check(z.minLength(1), z.maxLength(2)),
    })),
    'Registers a database server in an active environment. The connection is checked only with ?validateOnly=true, which ' +
      'writes nothing (no instance, no secret) and answers 200 with the instance that would be created, or 400 INVALID_ARGUMENT ' +
      'on dataSources[i] with the driver\'s message; without it an unreachable server can be registered. Exactly one ADMIN data ' +
      'source (Sluice connects with it) and at most one READ_ONLY. Passwords are write-only: kept in the secret store, never ' +
      'returned (hasPassword tells whether one is set). A deleted instance keeps its id.',
  ),
);

/** On PATCH, an omitted password keeps the stored one of that data source type. */
const DataSourcePatch = /* @__PURE__ */ lazySchema(() => z.extend(DataSourceInput, { hasPassword: z.optional(z.unknown()) }));

export const InstancePatch = /* @__PURE__ */ pure(() =>
  described(
    lazySchema(() => z.strictObject({
      title: z.optional(Title),
      environment: z.optional(z.string()),
      dataSources: z.optional(z.array(DataSourcePatch).check(z.minLength(1), z.maxLength(2))),
      engine: z.optional(z.unknown()),
      ...ECHOED,
    })),
    'dataSources replaces the whole list. A data source sent without password keeps the stored password of its type, an ' +
      'empty password removes it, any other value replaces it; a data source left out loses its password. engine cannot ' +
      'change. A deleted instance must be undeleted first; soft delete keeps the passwords, so an undeleted instance connects again.',
  ),
);
const MUTABLE = ['title', 'environment', 'dataSources'] as const;

const DataSourceResource = /* @__PURE__ */ z.object({
  type: DataSourceTypeSchema,
  host: /* @__PURE__ */ z.string(),
  port: /* @__PURE__ */ z.int(),
  username: /* @__PURE__ */ z.string(),
  database: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.string()),
  hasPassword: /* @__PURE__ */ z.boolean(),
});

export const InstanceResource = /* @__PURE__ */ z.object({
  name: /* @__PURE__ */ z.string(),
  title: /* @__PURE__ */ z.string(),
  engine: EngineSchema,
  environment: /* @__PURE__ */ z.string(),
  dataSources: /* @__PURE__ */ z.array(DataSourceResource),
  state: StateSchema,
  createTime: Timestamp,
  updateTime: Timestamp,
  etag: /* @__PURE__ */ z.string(),
});

export const ConnectionResultResource = /* @__PURE__ */ pure(() =>
  described(
    z.object({ ok: z.boolean(), engineVersion: z.optional(z.string()), error: z.optional(z.string()) }),
    'A server that cannot be reached, or refuses the ADMIN data source, is still a 200: ok false and an error a DBA can act ' +
      'on (refused port, unknown host, wrong password, timeout after 5 s), never a password. Answers within 10 s and leaves ' +
      'no connection open. A deleted instance is a 400 FAILED_PRECONDITION.',
  ),
);

export const INSTANCE_OPERATION_SCHEMAS: Record<string, OperationSchemas> = {
  listInstances: { list: { field: 'instances', item: InstanceResource } },
  createInstance: { request: InstanceCreate, response: InstanceResource },
  getInstance: { response: InstanceResource },
  updateInstance: { request: InstancePatch, response: InstanceResource },
  deleteInstance: { response: InstanceResource },
  undeleteInstance: { response: InstanceResource },
  testConnection: { response: ConnectionResultResource },
};

export type InstanceView = z.infer<typeof InstanceResource>;

export const toInstanceResource = (i: Instance): InstanceView => ({
  name: instanceName(i.id),
  title: i.title,
  engine: i.engine,
  environment: environmentName(i.environment),
  dataSources: i.dataSources.map((ds) => ({
    type: ds.type,
    host: ds.host,
    port: ds.port,
    username: ds.username,
    ...(ds.database === undefined ? {} : { database: ds.database }),
    hasPassword: ds.passwordSecret !== undefined,
  })),
  state: i.state,
  createTime: i.createTime,
  updateTime: i.updateTime,
  etag: etagOf(instanceName(i.id), i.version),
});

/** Exactly one ADMIN (Sluice connects with it), at most one READ_ONLY (queries). */
function checkDataSources(list: readonly { type: DataSourceType }[]): void {
  const admins = list.filter((d) => d.type === 'ADMIN').length;
  if (admins !== 1) throw fieldError('dataSources', `must hold exactly one ADMIN data source (found ${admins})`);
  if (list.filter((d) => d.type === 'READ_ONLY').length > 1) throw fieldError('dataSources', 'must hold at most one READ_ONLY data source');
}

/** The environment an instance is placed in must exist and be active. */
async function activeEnvironment(deps: Deps, raw: string): Promise<string> {
  const id = parseEnvironmentName(raw);
  const env = await deps.environments.get(id);
  if (!env) throw fieldError('environment', `${environmentName(id)} does not exist`);
  if (env.state !== 'ACTIVE') throw fieldError('environment', `${environmentName(id)} is deleted`);
  return id;
}

export async function getInstance(deps: Deps, id: string): Promise<Instance> {
  const instance = await deps.instances.get(id);
  if (!instance) throw new NotFoundError(instanceName(id));
  return instance;
}

export const listInstances = (deps: Deps, options: ListOptions): Promise<Page<Instance>> => deps.instances.list(options);

const toDataSource = (ds: Omit<DataSource, 'passwordSecret'>, passwordSecret: string | undefined): DataSource => ({
  type: ds.type,
  host: ds.host,
  port: ds.port,
  username: ds.username,
  ...(ds.database === undefined ? {} : { database: ds.database }),
  ...(passwordSecret === undefined ? {} : { passwordSecret }),
});

export interface CreateResult {
  instance: Instance;
  /** validateOnly: the connection was checked and nothing was written. */
  validatedOnly: boolean;
}

/**
 * Registers an instance. The connection is checked only with `validateOnly` (then nothing at all
 * is written), so that an instance can be registered before its server is reachable.
 */
export async function createInstance(deps: Deps & SqlDeps, body: unknown, validateOnly: boolean): Promise<CreateResult> {
  const input = parse(InstanceCreate, body);
  checkDataSources(input.dataSources);
  const environment = await activeEnvironment(deps, input.environment);
  if (await deps.instances.get(input.id)) throw new AlreadyExistsError(instanceName(input.id));
  const t = deps.now().toISOString();
  const draft: Omit<Instance, 'version'> = {
    id: input.id,
    title: input.title,
    engine: input.engine,
    environment,
    dataSources: input.dataSources.map((ds) => toDataSource(ds, ds.password ? secretName(input.id, ds.type) : undefined)),
    state: 'ACTIVE',
    createTime: t,
    updateTime: t,
  };

  if (validateOnly) {
    const index = input.dataSources.findIndex((d) => d.type === 'ADMIN');
    const admin = input.dataSources[index]!;
    const result = await deps.sql.testConnection(targetOf(input.engine, admin, admin.password));
    if (!result.ok) {
      deps.log?.debug('validateOnly: connection failed', { instance: instanceName(input.id), host: admin.host, port: admin.port, error: result.error });
      throw new InvalidArgumentError(`dataSources[${index}]: cannot connect: ${result.error}`, [{ field: `dataSources[${index}]`, description: `cannot connect: ${result.error}` }]);
    }
    return { instance: { ...draft, version: 1 }, validatedOnly: true };
  }

  // The item first: a concurrent create of the same id loses here, before touching any secret.
  const created = await deps.instances.create(draft);
  const written: string[] = [];
  try {
    for (const ds of input.dataSources) {
      if (!ds.password) continue;
      const name = secretName(input.id, ds.type);
      await deps.secrets.put(name, ds.password);
      written.push(name);
    }
  } catch (e) {
    // Leave nothing half made: no instance without its password, no orphan secret.
    await Promise.allSettled([deps.instances.discard(input.id), ...written.map((n) => deps.secrets.delete(n))]);
    throw e;
  }
  return { instance: created, validatedOnly: false };
}

export async function updateInstance(
  deps: Deps & SqlDeps,
  id: string,
  body: unknown,
  mask: string | undefined,
  ifMatch: string | undefined,
): Promise<Instance> {
  const patch = parse(InstancePatch, body);
  const fields = resolveUpdateMask(mask, patch, MUTABLE);
  if (patch.dataSources) checkDataSources(patch.dataSources);
  const current = await getInstance(deps, id);
  checkEtag(instanceName(id), current.version, ifMatch, patch.etag);
  if (patch.engine !== undefined && patch.engine !== current.engine) throw fieldError('engine', 'cannot be changed; register another instance');
  if (current.state === 'DELETED') throw new FailedPreconditionError(`${instanceName(id)} is deleted; undelete it first`);
  if (fields.length === 0) return current;

  const next: Instance = { ...current, updateTime: deps.now().toISOString() };
  if (fields.includes('title')) next.title = patch.title!;
  if (fields.includes('environment')) next.environment = await activeEnvironment(deps, patch.environment!);
  const toPut: { name: string; password: string }[] = [];
  const toDelete: string[] = [];
  if (fields.includes('dataSources')) {
    next.dataSources = patch.dataSources!.map((ds) => {
      const before = current.dataSources.find((d) => d.type === ds.type)?.passwordSecret;
      const name = secretName(id, ds.type);
      // Omitted: keep what is stored. Empty: remove it. Anything else: replace it.
      if (ds.password) toPut.push({ name, password: ds.password });
      if (ds.password === '' && before) toDelete.push(before);
      return toDataSource(ds, ds.password ? name : ds.password === undefined ? before : undefined);
    });
    for (const before of current.dataSources) {
      if (before.passwordSecret && !next.dataSources.some((d) => d.type === before.type)) toDelete.push(before.passwordSecret);
    }
  }
  // The item first, conditional on its version: a request that loses a race changes no password.
  const written = await deps.instances.update(next, current.version);
  for (const s of toPut) await deps.secrets.put(s.name, s.password);
  for (const name of toDelete) await deps.secrets.delete(name);
  return written;
}

/** Soft delete and undelete. The secrets stay, so that an undeleted instance still connects. */
export async function setInstanceState(deps: Deps, id: string, state: State, ifMatch: string | undefined): Promise<Instance> {
  const current = await getInstance(deps, id);
  checkEtag(instanceName(id), current.version, ifMatch);
  if (current.state === state) {
    throw new FailedPreconditionError(`${instanceName(id)} is ${state === 'DELETED' ? 'already deleted' : 'not deleted'}`);
  }
  return deps.instances.update({ ...current, state, updateTime: deps.now().toISOString() }, current.version);
}

const targetOf = (engine: Engine, ds: Omit<DataSource, 'passwordSecret'>, password: string | undefined): ConnectionTarget => ({
  engine,
  host: ds.host,
  port: ds.port,
  username: ds.username,
  ...(password === undefined ? {} : { password }),
  ...(ds.database === undefined ? {} : { database: ds.database }),
});

/** Where the ADMIN data source connects, with its password read from the secret store. */
export async function connectionTarget(deps: SqlDeps, instance: Instance, type: DataSourceType = 'ADMIN'): Promise<ConnectionTarget> {
  const ds = instance.dataSources.find((d) => d.type === type);
  if (!ds) throw new SqlConnectionError(`${instanceName(instance.id)} has no ${type} data source`);
  const password = ds.passwordSecret === undefined ? undefined : await deps.secrets.get(ds.passwordSecret);
  if (ds.passwordSecret !== undefined && password === undefined) {
    throw new SqlConnectionError(`the password of the ${type} data source of ${instanceName(instance.id)} is missing from the secret store; set it again with PATCH`);
  }
  return targetOf(instance.engine, ds, password);
}

/** Connects with the ADMIN data source: `{ok, engineVersion}` or `{ok: false, error}`, never a throw for a bad server. */
export async function testConnection(deps: Deps & SqlDeps, id: string): Promise<ConnectionResult> {
  const instance = await getInstance(deps, id);
  if (instance.state === 'DELETED') throw new FailedPreconditionError(`${instanceName(id)} is deleted; undelete it first`);
  let target: ConnectionTarget;
  try {
    target = await connectionTarget(deps, instance);
  } catch (e) {
    if (e instanceof SqlConnectionError) return { ok: false, error: e.message };
    throw e;
  }
  const result = await deps.sql.testConnection(target);
  deps.log?.debug('connection tested', { instance: instanceName(id), host: target.host, port: target.port, username: target.username, ok: result.ok });
  return result;
}

/** An identifier quoted for the engine: `"a""b"` on PostgreSQL, `` `a``b` `` on MySQL. */
export const quoteIdent = (engine: Engine, name: string): string =>
  engine === 'POSTGRES' ? `"${name.replace(/"/g, '""')}"` : `\`${name.replace(/`/g, '``')}\``;

export const createDatabaseStatement = (engine: Engine, name: string): string => `CREATE DATABASE ${quoteIdent(engine, name)}`;
