// The detail of an audit entry, per operation: an allowlist. Each operation names the fields it
// records, taken from the request (body or query) or the answer; nothing else of a body is ever
// copied, so a password, a token, a webhook URL or a row of data cannot get in by accident.
// Everything picked here then goes through redact.ts (scrubbed, capped).
import { safeStatement } from './redact.js';

type Obj = Record<string, unknown>;
type Pick = (body: Obj, query: Readonly<Record<string, string | undefined>>) => Obj;

const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const only = (o: Obj): Obj => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
const names = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined);

/** Fields a PATCH body may echo from a read without meaning to change them (domain/common/values.ts ECHOED). */
const ECHOED = new Set(['name', 'createTime', 'updateTime', 'state', 'etag']);

/** A PATCH: its update mask, or else the fields the body carries (names only, never values). */
const mask: Pick = (body, query) =>
  query.updateMask !== undefined ? { updateMask: query.updateMask } : { fields: Object.keys(body).filter((k) => !ECHOED.has(k) && /^[A-Za-z][\w.]{0,63}$/.test(k)) };

/** A statement run by the SQL editor, scrubbed and capped (redact.ts). */
export const statementDetail = (statement: string): Obj => ({ ...safeStatement(statement) });

const REQUEST: Readonly<Record<string, Pick>> = {
  updateWorkspace: (b, q) => ({
    ...mask(b, q),
    // Settings that change who may do what, or how long this log is kept, are worth their value.
    ...only({ allowSelfApproval: typeof b.allowSelfApproval === 'boolean' ? b.allowSelfApproval : undefined, auditRetention: str(b.auditRetention), outboundAllowlist: names(b.outboundAllowlist), syncInterval: str(b.syncInterval) }),
  }),
  createUser: (b) => only({ email: str(b.email), role: str(b.role) }),
  updateUser: (b, q) => ({ ...mask(b, q), ...only({ role: str(b.role) }) }),
  createEnvironment: (b) => only({ order: typeof b.order === 'number' ? b.order : undefined, requireApproval: obj(b.rolloutPolicy).requireApproval }),
  reorderEnvironments: (b) => only({ environments: names(b.environments) }),
  updateEnvironment: (b, q) => ({ ...mask(b, q), ...only({ requireApproval: obj(b.rolloutPolicy).requireApproval }) }),
  // Never the data sources: they carry the passwords.
  createInstance: (b, q) => only({ engine: str(b.engine), environment: str(b.environment), validateOnly: q.validateOnly === 'true' ? true : undefined }),
  updateDatabase: (b, q) => ({ ...mask(b, q), ...only({ project: str(b.project) }) }),
  setIamPolicy: (b) => {
    const bindings = obj(b.policy).bindings;
    return Array.isArray(bindings) ? { bindings: bindings.map((x) => only({ role: str(obj(x).role), members: names(obj(x).members) })) } : {};
  },
  createIssue: (b) =>
    only({
      type: str(b.type),
      databaseGroup: str(b.databaseGroup),
      sheet: str(b.sheet),
      targets: names(b.targets),
      targetCount: Array.isArray(b.targets) ? b.targets.length : undefined,
      instance: str(b.instance),
      databaseName: str(b.databaseName),
      runTime: str(b.runTime),
    }),
  approveStage: (b) => only({ comment: str(b.comment) }),
  rejectStage: (b) => only({ reason: str(b.reason), comment: str(b.comment) }),
  skipTask: (b) => only({ reason: str(b.reason) }),
  cancelIssue: (b) => only({ reason: str(b.reason) }),
  createSheet: (b) => only({ visibility: str(b.visibility), database: str(b.database) }),
  runSheet: (b) => only({ database: str(b.database), limit: typeof b.limit === 'number' ? b.limit : undefined }),
  queryDatabase: (b) => ({
    ...(typeof b.statement === 'string' ? statementDetail(b.statement) : {}),
    ...only({ limit: typeof b.limit === 'number' ? b.limit : undefined }),
  }),
  createDatabaseGroup: (b) => only({ databaseExpr: str(b.databaseExpr) }),
  createTableGroup: (b) => only({ tableExpr: str(b.tableExpr) }),
  updateDatabaseGroup: (b, q) => ({ ...mask(b, q), ...only({ databaseExpr: str(b.databaseExpr) }) }),
  updateTableGroup: (b, q) => ({ ...mask(b, q), ...only({ tableExpr: str(b.tableExpr) }) }),
  // Never apiUrl, webhookSecret or accessToken.
  putVcsConnector: (b) => only({ provider: str(b.provider), repository: str(b.repository), branch: str(b.branch), baseDirectory: str(b.baseDirectory) }),
  // Never url or secret (write-only): the type and the events it subscribes to.
  createWebhook: (b) => only({ id: str(b.id), type: str(b.type), events: names(b.events) }),
  updateWebhook: (b, q) => ({ ...mask(b, q), ...only({ events: names(b.events) }) }),
};

/** Operations whose answer says what they did in a few safe words. */
const RESPONSE: Readonly<Record<string, (r: Obj) => Obj>> = {
  // The webhook's outcome: accepted, duplicate, ignored and why; the delivery id; how many files.
  receiveVcsWebhook: (r) => only({ outcome: str(r.message), delivery: str(r.delivery), files: typeof r.files === 'number' ? r.files : undefined }),
  testConnection: (r) => only({ ok: typeof r.ok === 'boolean' ? r.ok : undefined }),
  testWebhook: (r) => only({ delivery: str(r.id) }),
};

/** The operations this module knows a detail for (a test checks each is a real route). */
export const DETAILED_OPERATIONS: readonly string[] = [...Object.keys(REQUEST), ...Object.keys(RESPONSE)];
/** Operations whose answer adds to the detail: only for these (and creates) is the answer read. */
export const RESPONSE_OPERATIONS: ReadonlySet<string> = new Set(Object.keys(RESPONSE));

/** What the request itself says, per operation; any other PATCH records its mask. */
export function requestDetail(operation: string, httpMethod: string, body: unknown, query: Readonly<Record<string, string | undefined>>): Obj {
  const pick = REQUEST[operation] ?? (httpMethod === 'PATCH' ? mask : undefined);
  return pick ? pick(obj(body), query) : {};
}

/** What a successful answer adds, per operation. */
export function responseDetail(operation: string, response: Obj): Obj {
  return RESPONSE[operation]?.(response) ?? {};
}
