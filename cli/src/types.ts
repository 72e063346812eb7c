// The parts of the API's resources the CLI reads, written from the contract (/v1/openapi.json),
// not imported from the server: the CLI is a client like any other. Fields it does not read are
// passed through untouched (`--json` prints the API's JSON as it came).
export type IssueStatus = 'OPEN' | 'DONE' | 'CANCELED';
export type TaskStatus = 'NOT_STARTED' | 'PENDING' | 'RUNNING' | 'DONE' | 'FAILED' | 'SKIPPED' | 'CANCELED';

export interface TaskRun {
  name: string;
  status: 'RUNNING' | 'DONE' | 'FAILED' | 'CANCELED';
  attempt: number;
  startTime: string;
  endTime?: string;
  detail: string;
}

export interface Task {
  name: string;
  type: string;
  database?: string;
  instance?: string;
  databaseName?: string;
  status: TaskStatus;
  skipReason?: string;
  latestTaskRun?: TaskRun;
  /** The plan check of this task (SQL review before the first stage). */
  planCheck?: { status: string; affectedRowsEstimate?: number; advices?: Advice[] };
}

export interface ApprovalStep {
  /** A rule's step: its one role; the environment's own step has none (any of `roles`). */
  role?: string;
  roles?: string[];
  status: string;
  approver?: string;
}

export interface Stage {
  name: string;
  environment: string;
  status: string;
  approval: { required?: boolean; status: string; approver?: string; approveTime?: string; steps?: ApprovalStep[]; waitingFor?: string[] };
  taskCount?: number;
  taskStatusCounts?: Record<string, number>;
  /** Absent for pipelines of more than 1,000 tasks: listed per stage instead. */
  tasks?: Task[];
}

export interface Issue {
  name: string;
  title: string;
  description: string;
  type: string;
  status: IssueStatus;
  creator: string;
  statement: string;
  runTime?: string;
  migrationVersion?: string;
  createTime: string;
  updateTime: string;
  pipeline?: { stages: Stage[] };
  /** The plan checks' summary: an ERROR blocks every stage not yet run (BLOCKED). */
  planCheck?: { status: string; errorCount?: number; warningCount?: number };
}

export interface User {
  name: string;
  email: string;
  title: string;
  role: string;
  userType?: string;
  state?: string;
}

export interface Database {
  name: string;
  project: string;
  environment: string;
  engine: string;
  syncState: string;
  /** The highest migration version applied to it ('' when none). */
  schemaVersion?: string;
}

export interface ChangeHistory {
  name: string;
  status: 'DONE' | 'FAILED' | 'PENDING' | 'DRIFT';
  version: string;
  issue: string;
  checksum: string;
  createTime: string;
}

export interface Advice {
  status: 'ERROR' | 'WARNING';
  rule: string;
  title: string;
  content: string;
  line?: number;
  column?: number;
}

/** The last path segment of a resource name: `environments/prod` → `prod`. */
export const idOf = (name: string): string => name.slice(name.lastIndexOf('/') + 1);
