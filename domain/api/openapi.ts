// OpenAPI 3.1 generated from the route table and the very zod schemas the handlers validate with.
import * as z from 'zod/mini';
import { EnvironmentCreate, EnvironmentPatch, EnvironmentReorder, EnvironmentResource } from '../inventory/environments.js';
import { DATABASE_OPERATION_SCHEMAS } from '../inventory/databases.js';
import { INSTANCE_OPERATION_SCHEMAS } from '../inventory/instances.js';
import { ISSUE_OPERATION_SCHEMAS } from '../pipeline/resources.js';
import { GROUP_OPERATION_SCHEMAS } from '../inventory/groups.js';
import { VCS_OPERATION_SCHEMAS } from '../gitops/vcs.js';
import { NOTIFY_OPERATION_SCHEMAS } from '../notify/webhooks.js';
import { APPROVAL_OPERATION_SCHEMAS } from '../approval/rules.js';
import { SHEET_OPERATION_SCHEMAS } from '../sheets/sheets.js';
import { PROJECT_OPERATION_SCHEMAS } from '../inventory/projects.js';
import { AUDIT_DEPARTURES, AUDIT_OPERATION_SCHEMAS } from '../audit/audit.js';
import { SYNC_OPERATION_SCHEMAS } from '../schema/sync.js';
import { SCHEMA_DEPARTURES, SCHEMA_OPERATION_SCHEMAS } from '../schema/service.js';
import type { OperationSchemas } from '../common/operations.js';
import { REVIEW_CONFIG_OPERATION_SCHEMAS } from '../review/configs.js';
import { REVIEW_DEPARTURES, REVIEW_OPERATION_SCHEMAS } from '../review/check.js';
import { ROUTES, type RouteDef } from './routes.js';
import { SUMMARIES } from './summaries.js';
import { UserCreate, UserPatch, UserResource } from '../access/users.js';
import { WorkspacePatch, WorkspaceResource } from '../access/workspace.js';


const Health = z.object({ ok: z.boolean() });

export const OPERATION_SCHEMAS: Record<string, OperationSchemas> = {
  health: { response: Health },
  openapi: { response: z.object({ openapi: z.string() }) },
  getWorkspace: { response: WorkspaceResource },
  updateWorkspace: { request: WorkspacePatch, response: WorkspaceResource },
  listUsers: { list: { field: 'users', item: UserResource } },
  createUser: { request: UserCreate, response: UserResource },
  getUser: { response: UserResource },
  updateUser: { request: UserPatch, response: UserResource },
  deleteUser: { response: UserResource },
  undeleteUser: { response: UserResource },
  listEnvironments: { list: { field: 'environments', item: EnvironmentResource } },
  createEnvironment: { request: EnvironmentCreate, response: EnvironmentResource },
  reorderEnvironments: { request: EnvironmentReorder, response: z.object({ environments: z.array(EnvironmentResource) }) },
  getEnvironment: { response: EnvironmentResource },
  updateEnvironment: { request: EnvironmentPatch, response: EnvironmentResource },
  deleteEnvironment: { response: EnvironmentResource },
  undeleteEnvironment: { response: EnvironmentResource },
  ...INSTANCE_OPERATION_SCHEMAS,
  ...DATABASE_OPERATION_SCHEMAS,
  ...PROJECT_OPERATION_SCHEMAS,
  ...ISSUE_OPERATION_SCHEMAS,
  ...SHEET_OPERATION_SCHEMAS,
  ...GROUP_OPERATION_SCHEMAS,
  ...VCS_OPERATION_SCHEMAS,
  ...NOTIFY_OPERATION_SCHEMAS,
  ...APPROVAL_OPERATION_SCHEMAS,
  ...AUDIT_OPERATION_SCHEMAS,
  ...SYNC_OPERATION_SCHEMAS,
  ...SCHEMA_OPERATION_SCHEMAS,
  ...REVIEW_CONFIG_OPERATION_SCHEMAS,
  ...REVIEW_OPERATION_SCHEMAS,
};

const jsonSchema = (s: z.ZodMiniType, io: 'input' | 'output') => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};

const ErrorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'status', 'message', 'details'],
      properties: {
        code: { type: 'integer' },
        status: { type: 'string', enum: ['INVALID_ARGUMENT', 'FAILED_PRECONDITION', 'UNAUTHENTICATED', 'PERMISSION_DENIED', 'NOT_FOUND', 'ALREADY_EXISTS', 'ABORTED', 'UNIMPLEMENTED', 'INTERNAL'] },
        message: { type: 'string' },
        details: {
          type: 'array',
          items: { type: 'object', properties: { field: { type: 'string' }, description: { type: 'string' }, permission: { type: 'string' } } },
        },
      },
    },
  },
};

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });

function parameters(r: RouteDef): unknown[] {
  const params: unknown[] = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
  const q = (name: string, schema: unknown, description: string) => params.push({ name, in: 'query', required: false, schema, description });
  const schemas = OPERATION_SCHEMAS[r.operation];
  if (schemas?.list) {
    q('pageSize', { type: 'integer', minimum: 0, maximum: 1000, default: 50 }, 'At most this many items (default 50, capped at 1000).');
    q('pageToken', { type: 'string' }, 'nextPageToken of the previous page; tamper-evident, bound to the other list parameters.');
    q('showDeleted', { type: 'boolean' }, 'Include soft-deleted resources.');
  }
  if (schemas?.filter) q('filter', { type: 'string' }, schemas.filter);
  if (r.method === 'PATCH') q('updateMask', { type: 'string' }, 'Comma-separated fields to update; without it, every mutable field present in the body.');
  if (r.method === 'PATCH' || r.operation === 'updateApprovalRules') {
    params.push({ name: 'If-Match', in: 'header', required: false, schema: { type: 'string' }, description: 'The etag last read; a stale one is a 409 ABORTED.' });
  }
  if (r.rawBody) {
    const h = (name: string, description: string) => params.push({ name, in: 'header', required: false, schema: { type: 'string' }, description });
    h('X-Hub-Signature-256', 'GitHub: sha256=<hex HMAC-SHA256 of the raw body with the webhook secret>.');
    h('X-GitHub-Event', 'GitHub: push (used), ping (answered), anything else (acknowledged).');
    h('X-GitHub-Delivery', 'GitHub: the delivery id; one seen before is a 200 that does nothing.');
    h('X-Gitlab-Token', 'GitLab: the webhook secret itself.');
    h('X-Gitlab-Event', 'GitLab: Push Hook (used), anything else (acknowledged).');
    h('X-Gitlab-Event-UUID', 'GitLab: the delivery id (else the body hash).');
  }
  if (r.create) {
    params.push({ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 256 }, description: 'A retry with the same key and body returns the first response (for 24 h); another body is a 409.' });
  }
  return params;
}

/** GitOps (API.md is silent on these): what a demanding user would otherwise have to guess. */
const GITOPS_DEPARTURES = [
  'GitOps: vcsConnector GET needs vcsConnectors.get (project members, DBAs, admins); PUT and DELETE need vcsConnectors.update, held by projectOwner and workspaceAdmin only (not workspaceDBA).',
  'GitOps: PUT vcsConnector creates or replaces; branch defaults to main, baseDirectory to migrations, apiUrl to https://api.github.com (GitHub) or https://gitlab.com/api/v4 (GitLab). apiUrl must be https (http only on localhost). webhookSecret (16 to 256 characters) and accessToken are required on create and kept when a replacement leaves them out; they are never returned, logged or stored in the table (Secrets Manager deployed, the encrypted file locally). The etag (If-Match or etag) is checked when given.',
  'GitOps: the webhook answers 401 alike for a bad or missing signature and for a project without a connector; 200 for a ping, another event, a push to another branch, a deleted branch, a push without migration files, and a delivery id seen before (90 days); 202 when the push is recorded and queued (issues follow asynchronously); 413 over 5 MiB. GitHub must send application/json. A GitLab delivery without X-Gitlab-Event-UUID is identified by the hash of its body.',
  'GitOps: files are taken from the commits listed in the push payload (GitHub lists up to 2048, GitLab 20) and read at the pushed head; at most 200 per push, the rest listed as rejected. A file added or changed under baseDirectory becomes one issue (in version order), unless its path was taken up before with the same content (listed as unchanged). Versions are `V1`, `V1.2`, `V1_2` (canonical 1.2, leading zeros dropped), compared numerically. A database file targets every synced database of the project with that name; `@group` files target the group.',
  'GitOps: where each delivery went is shown on GET vcsConnector as recentDeliveries (the last 10): issues made, unchanged files, and rejectedFiles with the reason (bad name, unknown database or group, unreadable, empty, over 256 KiB, refused by issue creation).',
  'GitOps: the task runner checks each database\'s applied versions first: a version applied with the same checksum ends the task DONE without running it (detail names the earlier change); a different checksum is drift: not run, the task DONE with a drift detail, a MIGRATION_DRIFT activity on the issue, and a change-history entry with status DRIFT (the new statement and checksum).',
  'Versions (GitOps, `sluice migrate`, any issue with a migrationVersion): a task waits, status PENDING with a `detail` naming the lower version, while a lower version made earlier for its database is neither applied nor skipped; it fails after 24 h of waiting. A version lower than a database\'s `schemaVersion` (the highest version applied to it, which only moves forward) is a 400 on field migrationVersion (GitOps: a rejected file) unless the project sets `allowOutOfOrderVersions` (default false, set at create or by PATCH), as Flyway\'s outOfOrder.',
];

export function buildOpenApi(version = '1.0.0'): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ROUTES as readonly RouteDef[]) {
    const s = OPERATION_SCHEMAS[r.operation] ?? {};
    const ok = s.list
      ? { type: 'object', required: [s.list.field], properties: { [s.list.field]: { type: 'array', items: jsonSchema(s.list.item, 'output') }, nextPageToken: { type: 'string' } } }
      : s.response ? jsonSchema(s.response, 'output') : undefined;
    const responses: Record<string, unknown> = {
      [r.create ? '201' : '200']: { description: 'OK', ...(ok ? { content: { 'application/json': { schema: ok } } } : {}) },
      '400': errorResponse('INVALID_ARGUMENT or FAILED_PRECONDITION'),
    };
    if (r.permission) {
      Object.assign(responses, {
        '401': errorResponse('UNAUTHENTICATED'),
        '403': errorResponse(`PERMISSION_DENIED: requires ${r.permission}`),
        '404': errorResponse('NOT_FOUND'),
        '409': errorResponse('ALREADY_EXISTS or ABORTED (etag, idempotency or lost race)'),
      });
    }
    if (r.rawBody) {
      Object.assign(responses, {
        '202': { description: 'A push to the branch with migration files: recorded and queued; issues follow asynchronously', content: { 'application/json': { schema: ok } } },
        '401': errorResponse('UNAUTHENTICATED: bad or missing signature, or no connector for the project (nothing written)'),
        '413': errorResponse('body over 5 MiB'),
      });
    }
    if (r.body) Object.assign(responses, { '413': errorResponse('body over 1 MiB'), '415': errorResponse('body not application/json') });
    (paths[r.path] ??= {})[r.method.toLowerCase()] = {
      operationId: r.operation,
      summary: SUMMARIES[r.operation as keyof typeof SUMMARIES],
      ...(r.permission ? { 'x-sluice-permission': r.permission } : { security: [] }),
      parameters: parameters(r),
      ...(s.request ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(s.request, 'input') } } } } : {}),
      ...(r.rawBody ? { requestBody: { required: true, description: "The provider's push event payload, exactly as sent (the signature covers these bytes).", content: { 'application/json': { schema: { type: 'object' } } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Sluice API',
      version,
      description:
        'Database change management as a serverless API. Conventions follow Google AIP: resource names, ' +
        'AIP-136 custom methods (`:verb`), AIP-158 paging with opaque tamper-evident tokens, AIP-134 update masks, ' +
        'AIP-154 etags (If-Match), AIP-164 soft delete, AIP-193 errors. Departures from API.md, if any, are listed in x-sluice-departures.',
    },
    'x-sluice-departures': [
      'Users: email is immutable; PATCH changes title and role only.',
      'Environments: `order` is the rank in the pipeline (0 first); it changes only through :reorder or insertion at create.',
      'Projects: :setIamPolicy requires the etag of :getIamPolicy (policy.etag or If-Match); bindings are merged per role; members are active users (`users/N`, not the bot); every project but `default` keeps a projectOwner.',
      'Projects: a project that still holds databases cannot be deleted (400 FAILED_PRECONDITION); move them to another project first, as in Bytebase.',
      'Projects: `maxParallelTasks` (1–100, default 10) is how many tasks of one issue run at once; set at create or by PATCH.',
      'Issues: at most 10,000 targets (a group or a list). Each stage carries `taskCount` and `taskStatusCounts`; `tasks` is listed in the issue only when the issue has at most 1,000 tasks, otherwise list them with GET .../stages/{stage}/tasks (paged, ?filter=status == "FAILED"). A task repeats the issue\'s `statement` only when it is at most 4 KiB.',
      'Issues: `statement` (or the sheet) may be up to 1 MiB; a change history keeps the first 64 KiB of a longer statement, with its size and sha256.',
      'Issues: GET .../activities is paged (pageSize, pageToken) like every list.',
      'Errors: a path of this document asked with a method it does not take (DELETE /v1/environments) is a 405 with an `Allow` header naming the methods it takes, in the error shape with status UNIMPLEMENTED (what grpc-gateway answers to a 405). A path outside the document stays a 404 NOT_FOUND.',
      'Approval: a stage\'s `approval` is `{status, rule?, steps, waitingFor?}`. `status` adds NOT_DECIDED: the flow is decided when the pipeline reaches the stage (so rules see the plan check), not when the issue is made. Each step carries `roles`, the roles any one of which approves it (a rule\'s step has one, also given as `role`; the environment\'s own step has the four of before and no `role`), and `comment` (the approver\'s, or a rejection\'s reason). `waitingFor` names the roles of the waiting step. `plan_check.status` is NOT_RUN for an issue no plan check ran on.',
      'Approval: a stage has the status REJECTED after `:reject` (which requires `reason`). Who may not act on the waiting step (lacks its role, created the issue, approved another step of the stage) gets 403 naming issues.approve, whatever their other permissions; a stage not waiting is 400; a lost race is 409. Activities: STEP_APPROVED (a step before the last), STAGE_APPROVED (the last), STAGE_REJECTED, APPROVAL_REREQUESTED. PUT /v1/approvalRules without an etag replaces the rules unconditionally.',
      'Webhooks: a webhook resource is `{name, id, title, type, events, hasSecret, createTime, updateTime, etag}`: `id` may be chosen at create (else `wh-` and 8 hex digits); `hasSecret` says whether GENERIC deliveries are signed. `url` must be https (http only on `npm start`). Reading needs `webhooks.get` (every project role); changing needs `webhooks.update` (projectOwner, workspaceDBA, workspaceAdmin). At most 20 per project.',
      'Webhooks: `POST …/webhooks/{id}:test` answers 202 with the TEST delivery, PENDING (the attempt follows on the queue). `GET …/deliveries` takes `pageSize` (newest first, no pageToken); each delivery carries `attempts` ({time, statusCode?, error?, durationMs}), `nextAttemptTime` while PENDING, and the `body` sent.',
      'Webhooks: the GENERIC payload names resources by name: `project` is `projects/{p}`, `issue` is `{name, title}`, `actor` is `{name: "users/N", email}`; it also carries `id`, `summary`, `next` (who must act), `approval` `{roles, step, steps, rule?}` for APPROVAL_REQUESTED and `comment`. A TEST event exists for `:test` only.',
      'Workspace: `outboundAllowlist` (host names, IP addresses or CIDR ranges, up to 100): addresses webhooks and the GitOps apiUrl may reach although private, loopback or link-local (deployed, those are refused otherwise, at save and at each connection). The GitOps `apiUrl` is now checked by the same guard: deployed, http://127.0.0.1 is refused.',
      ...GITOPS_DEPARTURES,
      ...AUDIT_DEPARTURES,
      ...SCHEMA_DEPARTURES,
      ...REVIEW_DEPARTURES,
    ],
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { Error: ErrorSchema },
    },
    paths,
  };
}
