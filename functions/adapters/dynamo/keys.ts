// Every DynamoDB key Sluice writes is built here and nowhere else (ElectroDB-style templates).
// Collections that stay small (users, environments) share one partition so a list is one
// strongly consistent Query; later aggregates (issues with their pipelines) get their own.

import { versionSortKey } from '../../../domain/common/migrations.js';

export const pad = (n: number, width = 10): string => String(n).padStart(width, '0');

export type EntityType = 'Workspace' | 'Counter' | 'User' | 'UserEmail' | 'Environment' | 'Project' | 'Idempotency' | 'Config' | 'Instance' | 'Database' | 'Table'
  | 'Issue' | 'Stage' | 'Task' | 'TaskRun' | 'Activity' | 'ChangeHistory' | 'Sheet' | 'SheetChunk' | 'StatementChunk' | 'DatabaseGroup' | 'TableGroup'
  | 'VcsConnector' | 'VcsDelivery' | 'VcsDeliveryId' | 'VcsFile' | 'AppliedVersion' | 'VersionedTask' | 'ApprovalRules' | 'AuditLog' | 'BackupIndex'
  | 'SchemaHead' | 'SchemaChunk' | 'SyncSchedule' | 'Operation' | 'Webhook' | 'WebhookDelivery'
  | 'ReviewConfig' | 'PlanCheck' | 'StatementCheck' | 'TaskCount';

/** Server-given names go into sort keys escaped, so that `#` and `.` stay separators. */
const part = (s: string): string => s.replace(/[%#.]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export interface Key {
  pk: string;
  sk: string;
}

export const keys = {
  workspace: (): Key => ({ pk: 'WORKSPACE', sk: 'WORKSPACE' }),
  /** The workspace's approval rules: one item, the whole ordered list, replaced with its version. */
  approvalRules: (): Key => ({ pk: 'WORKSPACE', sk: 'APPROVAL_RULES' }),
  /** Review configs: few per workspace, one partition (a list is one strongly consistent Query). */
  reviewConfig: (id: string): Key => ({ pk: 'REVIEWCONFIGS', sk: `REVIEWCONFIG#${id}` }),
  reviewConfigsPartition: 'REVIEWCONFIGS',
  reviewConfigPrefix: 'REVIEWCONFIG#',
  counter: (name: 'users'): Key => ({ pk: 'COUNTER', sk: name.toUpperCase() }),
  config: (name: 'pageTokenKey'): Key => ({ pk: 'CONFIG', sk: name }),
  user: (id: number): Key => ({ pk: 'USERS', sk: `USER#${pad(id)}` }),
  usersPartition: 'USERS',
  userPrefix: 'USER#',
  /** Uniqueness guard: one item per email, written in the same transaction as the user. */
  userEmail: (email: string): Key => ({ pk: `USEREMAIL#${email}`, sk: 'USEREMAIL' }),
  environment: (id: string): Key => ({ pk: 'ENVIRONMENTS', sk: `ENV#${id}` }),
  environmentsPartition: 'ENVIRONMENTS',
  environmentPrefix: 'ENV#',
  project: (id: string): Key => ({ pk: 'PROJECTS', sk: `PROJECT#${id}` }),
  projectsPartition: 'PROJECTS',
  projectPrefix: 'PROJECT#',
  instance: (id: string): Key => ({ pk: 'INSTANCES', sk: `INSTANCE#${id}` }),
  instancesPartition: 'INSTANCES',
  instancePrefix: 'INSTANCE#',
  /** An instance's databases and tables share its partition (one Query for sync). */
  instancePartition: (instance: string): string => `INSTANCE#${instance}`,
  database: (instance: string, name: string): Key => ({ pk: `INSTANCE#${instance}`, sk: `DB#${name}` }),
  databasePrefix: 'DB#',
  /** gsi1: a project's databases across instances. */
  databaseInProject: (project: string, instance: string, name: string): { gsi1pk: string; gsi1sk: string } => ({
    gsi1pk: `PROJECT#${project}`,
    gsi1sk: `DB#${instance}#${name}`,
  }),
  projectDatabases: (project: string): { gsi1pk: string; prefix: string } => ({ gsi1pk: `PROJECT#${project}`, prefix: 'DB#' }),
  table: (instance: string, database: string, schema: string, name: string): Key => ({
    pk: `INSTANCE#${instance}`,
    sk: `TABLE#${part(database)}#${part(schema)}.${part(name)}`,
  }),
  /** Every recorded table of the instance, or of one of its databases. */
  tablePrefix: (database?: string): string => (database === undefined ? 'TABLE#' : `TABLE#${part(database)}#`),
  idempotency: (scope: string): Key => ({ pk: `IDEMPOTENCY#${scope}`, sk: 'IDEMPOTENCY' }),

  // One item collection per issue: the issue, its stages, tasks, task runs and activities, so
  // GET issue with its whole pipeline is one Query on `issuePartition`.
  issuePartition: (project: string, n: number): string => `ISSUE#${project}#${pad(n)}`,
  issue: (project: string, n: number): Key => ({ pk: keys.issuePartition(project, n), sk: '#ISSUE' }),
  stage: (project: string, n: number, order: number, env: string): Key => ({ pk: keys.issuePartition(project, n), sk: `STAGE#${pad(order, 3)}#${env}` }),
  stagePrefix: 'STAGE#',
  /**
   * A stage's task counters (how many of its tasks are in each stored status), sharded by task id
   * (task-counts.ts): beside the issue item, so the issue and its counters are one small Query on
   * `issueHeadPrefix`, whatever the number of tasks.
   */
  taskCount: (project: string, n: number, stage: string, shard: number): Key => ({ pk: keys.issuePartition(project, n), sk: `#TASKS#${stage}#${pad(shard, 2)}` }),
  taskCountPrefix: '#TASKS#',
  /** The issue item (`#ISSUE`) and its task counters (`#TASKS#…`): nothing else sorts under `#`. */
  issueHeadPrefix: '#',
  task: (project: string, n: number, id: number): Key => ({ pk: keys.issuePartition(project, n), sk: `TASK#${pad(id, 6)}` }),
  taskPrefix: 'TASK#',
  taskRun: (project: string, n: number, task: number, attempt: number): Key => ({ pk: keys.issuePartition(project, n), sk: `RUN#${pad(task, 6)}#${pad(attempt, 4)}` }),
  taskRunPrefix: (task?: number): string => (task === undefined ? 'RUN#' : `RUN#${pad(task, 6)}#`),
  activity: (project: string, n: number, seq: number): Key => ({ pk: keys.issuePartition(project, n), sk: `ACT#${pad(seq, 8)}` }),
  activityPrefix: 'ACT#',
  /** An issue statement too large for the issue item, in chunks (UTF-8 bytes) beside it. */
  statementChunk: (project: string, n: number, index: number): Key => ({ pk: keys.issuePartition(project, n), sk: `STMT#${pad(index, 4)}` }),
  statementChunkPrefix: 'STMT#',
  /**
   * Plan checks, in the issue's partition: one item per task (its advices and affected-rows
   * estimate), and one per distinct engine and environment (the statement-only advices and the
   * statement's types, checked once for all the targets that share them).
   */
  planCheck: (project: string, n: number, task: number): Key => ({ pk: keys.issuePartition(project, n), sk: `CHECK#${pad(task, 6)}` }),
  planCheckPrefix: 'CHECK#',
  statementCheck: (project: string, n: number, engine: string, environment: string): Key => ({ pk: keys.issuePartition(project, n), sk: `STMTCHECK#${engine}#${environment}` }),
  statementCheckPrefix: 'STMTCHECK#',
  /** Issues of a project, newest first, on gsi1 (set on the issue item). */
  issueInProject: (project: string, n: number): { gsi1pk: string; gsi1sk: string } => ({ gsi1pk: `PROJECT#${project}`, gsi1sk: `ISSUE#${pad(n)}` }),
  projectIssues: (project: string): { gsi1pk: string; prefix: string } => ({ gsi1pk: `PROJECT#${project}`, prefix: 'ISSUE#' }),
  /** Issue numbers count up per project with no gaps: the create transaction checks this counter. */
  issueCounter: (project: string): Key => ({ pk: 'COUNTER', sk: `ISSUES#${project}` }),
  /** Change history per database, in its instance's partition; ids sort by time. */
  changeHistory: (instance: string, database: string, id: string): Key => ({ pk: `INSTANCE#${instance}`, sk: `HISTORY#${part(database)}#${id}` }),
  changeHistoryPrefix: (database: string): string => `HISTORY#${part(database)}#`,

  // A project's database groups and their table groups share one partition: deleting a group
  // finds its table groups with one Query.
  groupsPartition: (project: string): string => `GROUPS#${project}`,
  databaseGroup: (project: string, id: string): Key => ({ pk: `GROUPS#${project}`, sk: `DBGROUP#${id}` }),
  databaseGroupPrefix: 'DBGROUP#',
  tableGroup: (project: string, group: string, id: string): Key => ({ pk: `GROUPS#${project}`, sk: `TBLGROUP#${group}#${id}` }),
  tableGroupPrefix: (group: string): string => `TBLGROUP#${group}#`,

  // Sheets: the sheet items of a project share one partition (a list is one strongly consistent
  // Query, content left out); each sheet's content lives in chunks under the sheet's own
  // partition, keyed by the sheet's version so that a reader never mixes two versions.
  sheetsPartition: (project: string): string => `SHEETS#${project}`,
  sheet: (project: string, id: number): Key => ({ pk: `SHEETS#${project}`, sk: `SHEET#${pad(id)}` }),
  sheetPrefix: 'SHEET#',
  sheetChunk: (project: string, id: number, version: number, index: number): Key => ({ pk: `SHEET#${project}#${pad(id)}`, sk: `CHUNK#${pad(version)}#${pad(index, 4)}` }),
  sheetChunkPartition: (project: string, id: number): string => `SHEET#${project}#${pad(id)}`,
  sheetChunkPrefix: (version?: number): string => (version === undefined ? 'CHUNK#' : `CHUNK#${pad(version)}#`),
  /** Sheet ids count up per project (an atomic counter; a failed create may leave a gap). */
  sheetCounter: (project: string): Key => ({ pk: 'COUNTER', sk: `SHEETS#${project}` }),

  // GitOps: a project's connector, its deliveries (newest last by receive time) and the last
  // content seen per migration file share one partition; a delivery id is unique per project
  // through its own guard item, written in the same transaction as the delivery.
  vcsPartition: (project: string): string => `VCS#${project}`,
  vcsConnector: (project: string): Key => ({ pk: `VCS#${project}`, sk: 'CONNECTOR' }),
  vcsDelivery: (project: string, receiveTime: string, id: string): Key => ({ pk: `VCS#${project}`, sk: `DELIVERY#${receiveTime}#${part(id)}` }),
  vcsDeliveryPrefix: 'DELIVERY#',
  vcsDeliveryId: (project: string, id: string): Key => ({ pk: `VCSDELIVERY#${project}#${id}`, sk: 'VCSDELIVERY' }),
  vcsFile: (project: string, path: string): Key => ({ pk: `VCS#${project}`, sk: `FILE#${path}` }),
  /**
   * Prior backups per instance, oldest first (written with the task run that took them): the
   * scheduled cleanup reads each instance's partition up to the oldest age it may drop.
   */
  backupIndex: (instance: string, createTime: string, project: string, issue: number, task: number, attempt: number): Key => ({
    pk: `BACKUPS#${instance}`,
    sk: `BACKUP#${createTime}#${project}#${pad(issue)}#${pad(task, 6)}#${pad(attempt, 4)}`,
  }),
  backupIndexPartition: (instance: string): string => `BACKUPS#${instance}`,
  backupIndexBefore: (createTime: string): string => `BACKUP#${createTime}`,
  /** The migration versions applied to a database (GitOps), with their checksum: the runner's skip and drift check. */
  appliedVersion: (instance: string, database: string, version: string): Key => ({ pk: `INSTANCE#${instance}`, sk: `APPLIED#${part(database)}#${version}` }),
  /**
   * Versioned tasks per database, in version order (versionSortKey), written with their issue: the
   * runner reads the lower versions made for the database with one Query (domain/pipeline/versions.ts).
   */
  versionedTask: (instance: string, database: string, version: string, project: string, issue: number, task: number): Key => ({
    pk: `INSTANCE#${instance}`,
    sk: `VERSIONTASK#${part(database)}#${versionSortKey(version)}#${project}#${pad(issue)}#${pad(task, 6)}`,
  }),
  /** Sort-key bounds of the database's versioned tasks below `version` (its own version's sort after the upper bound). */
  versionedTasksBelow: (database: string, version: string): { from: string; to: string } => ({
    from: `VERSIONTASK#${part(database)}#`,
    to: `VERSIONTASK#${part(database)}#${versionSortKey(version)}`,
  }),

  // Project webhooks: a project's webhooks share one partition (a list is one Query); each
  // webhook's deliveries have their own, sorted by id, which begins with the event's time (base 36).
  webhooksPartition: (project: string): string => `WEBHOOKS#${project}`,
  webhook: (project: string, id: string): Key => ({ pk: `WEBHOOKS#${project}`, sk: `WEBHOOK#${id}` }),
  webhookPrefix: 'WEBHOOK#',
  webhookDeliveriesPartition: (project: string, webhook: string): string => `WHDELIVERY#${project}#${webhook}`,
  webhookDelivery: (project: string, webhook: string, id: string): Key => ({ pk: `WHDELIVERY#${project}#${webhook}`, sk: `DLV#${part(id)}` }),
  webhookDeliveryPrefix: 'DLV#',

  // The audit log: access patterns "newest first, optionally filtered by resource prefix, method
  // and time range" (one partition, sort keys in time order, Query backwards with a key range and
  // a filter) and "the same for one actor" (gsi1, a partition per actor). One partition for the
  // workspace: its writes are the API's mutating requests, under API Gateway's 100 requests/s
  // stage throttle, far from a partition's 1,000 writes/s. Items expire by TTL (`ttl`).
  auditPartition: 'AUDIT',
  auditLog: (time: string, requestId: string): Key => ({ pk: 'AUDIT', sk: `LOG#${time}#${part(requestId)}` }),
  auditByActor: (actor: string, time: string, requestId: string): { gsi1pk: string; gsi1sk: string } => ({
    gsi1pk: `AUDITBY#${actor}`,
    gsi1sk: `LOG#${time}#${part(requestId)}`,
  }),
  auditActorPartition: (actor: string): string => `AUDITBY#${actor}`,
  /**
   * Sort-key bounds for a time range: `LOG#<t>` sorts before every entry at t (`LOG#<t>#<id>`) and
   * after every earlier one; `LOG#<t>#\uffff` after every entry at t.
   */
  auditTimeBound: (time: string | undefined, side: 'from' | 'to', inclusive: boolean): string => {
    if (time === undefined) return side === 'from' ? 'LOG#' : 'LOG#\uffff';
    const beforeAll = `LOG#${time}`;
    const afterAll = `LOG#${time}#\uffff`;
    return side === 'from' ? (inclusive ? beforeAll : afterAll) : inclusive ? afterAll : beforeAll;
  },

  // A database's recorded schema: its own partition, so 2,000 tables in chunks never weigh on the
  // instance's inventory Query. Snapshots are keyed by checksum (history and drift read old ones);
  // the head names the current one.
  schemaPartition: (instance: string, database: string): string => `SCHEMA#${instance}#${part(database)}`,
  schemaHead: (instance: string, database: string): Key => ({ pk: keys.schemaPartition(instance, database), sk: 'HEAD' }),
  schemaChunk: (instance: string, database: string, checksum: string, index: number): Key => ({
    pk: keys.schemaPartition(instance, database),
    sk: `SNAP#${checksum}#${pad(index, 4)}`,
  }),
  schemaChunkPrefix: (checksum: string): string => `SNAP#${checksum}#`,
  /** When the scheduled sync last started a round (domain/schema/schedule.ts). */
  syncSchedule: (): Key => ({ pk: 'SYNC_SCHEDULE', sk: 'SYNC_SCHEDULE' }),
  /** Long-running operations (instance sync), by id. */
  operation: (id: string): Key => ({ pk: `OPERATION#${id}`, sk: 'OPERATION' }),
};
