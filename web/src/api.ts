// The console's only way to the server: the public HTTP API, with the signed-in user's token.
import { currentToken, signOut } from './auth';

export class ApiError extends Error {
  constructor(readonly code: number, readonly status: string, message: string, readonly details: { field?: string; description?: string }[] = []) {
    super(message);
  }
  /** A route this server does not have (yet): the feature is built on another branch or version. */
  get notAvailable(): boolean {
    return this.code === 404 || this.code === 405 || this.code === 501;
  }
}

export async function api<T>(path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<T> {
  const token = currentToken();
  const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
  if (token) headers.authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method: init.method ?? 'GET', headers, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const e = (json as { error?: { code: number; status: string; message: string; details?: [] } } | undefined)?.error;
    if (res.status === 401) signOut('Your sign-in has expired or is not valid: sign in again.');
    throw new ApiError(res.status, e?.status ?? 'UNKNOWN', e?.message ?? `HTTP ${res.status}`, e?.details ?? []);
  }
  return json as T;
}

export const post = <T>(path: string, body: unknown = {}) => api<T>(path, { method: 'POST', body });

/** `/v1/` + a resource name, with a query string built from the defined values. */
export function v1(name: string, query: Record<string, string | number | undefined> = {}): string {
  const q = Object.entries(query).filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return `/v1/${name}${q.length ? `?${q.join('&')}` : ''}`;
}

// The resources the pages read (API.md), as far as the console uses them.
export interface User { name: string; email: string; title?: string; role: string; userType?: string }
export interface Project { name: string; title: string }
export interface Advice { status: 'ERROR' | 'WARNING'; rule: string; title: string; content: string; line: number; column: number }
export interface PlanCheck { status: string; errorCount?: number; warningCount?: number; affectedRowsEstimate?: number; advices?: Advice[] }
export interface TaskRun { name: string; status: string; attempt: number; creator: string; startTime: string; endTime?: string; detail: string; result?: { affectedRows?: number; changeHistory?: string } }
export interface Task {
  name: string; type: string; database?: string; instance?: string; databaseName?: string; status: string; runTime?: string;
  statement?: string; skipReason?: string; latestTaskRun?: TaskRun; planCheck?: PlanCheck;
}
export interface ApprovalStep { role?: string; roles: string[]; status: string; approver?: string; approveTime?: string; comment?: string }
export interface Stage {
  name: string; environment: string; status: string;
  approval: { status: string; rule?: string; steps: ApprovalStep[]; waitingFor?: string[] };
  taskCount: number; taskStatusCounts: Record<string, number>; tasks?: Task[];
}
export interface Issue {
  name: string; title: string; description: string; type: string; status: string; creator: string; statement: string;
  runTime?: string; createTime: string; updateTime: string; etag: string; planCheck?: PlanCheck; pipeline?: { stages: Stage[] };
}
export interface Activity { name: string; type: string; actor: string; time: string; target?: string; comment?: string }
export interface Database { name: string; project: string; environment: string; engine: string; labels?: Record<string, string>; schemaVersion?: string; syncState?: string; drifted?: boolean; driftTime?: string }
export interface ChangeHistory { name: string; status: string; type: string; statement: string; version: string; issue?: string; taskRun?: string; createTime: string; creator?: string; schemaDiff?: string; schemaBefore?: string; schemaAfter?: string }
export interface Drift { drifted: boolean; expectedChecksum?: string; actualChecksum?: string; diff?: string }
export interface RuleConfig { type: string; level: 'ERROR' | 'WARNING'; payload?: unknown }
export interface ReviewConfig { name: string; id: string; title: string; enabled: boolean; rules: RuleConfig[]; resources: string[]; etag?: string; updateTime?: string }
export interface ReviewRule { type: string; title: string; description?: string; engines?: string[]; defaultLevel?: 'ERROR' | 'WARNING'; payloadSchema?: { properties?: Record<string, { default?: unknown }> } }
export interface ApprovalRule { title: string; condition: string; steps: { role: string }[] }
export interface ApprovalRules { rules: ApprovalRule[]; etag?: string; updateTime?: string }
export interface Webhook { name: string; id: string; title: string; type: string; events: string[]; hasSecret?: boolean; etag?: string }
export interface WebhookDelivery {
  name: string; id: string; event: string; createTime: string; status: string; nextAttemptTime?: string;
  attempts: { time: string; statusCode?: number; error?: string; durationMs: number }[];
}
export interface Sheet { name: string; title: string; content: string; database?: string; visibility: string }
export interface QueryResult { columns: { name: string; type: string }[]; rows: unknown[][]; rowCount: number; truncated: boolean; elapsedMs: number }

/** The last path segment of a resource name: `instances/pg/databases/shop` → `shop`. */
export const lastId = (name: string): string => name.slice(name.lastIndexOf('/') + 1);

/** Emails of the workspace's users by name (filled at sign-in), to show people rather than `users/4`. */
export const userEmails = new Map<string, string>();
export const who = (name: string): string => (name === 'users/1' ? 'Sluice (system bot)' : userEmails.get(name) ?? name);

/**
 * Which workspace roles may change what: the server's role table (domain/access/roles.ts) decides,
 * this only keeps edit controls away from those who would get a 403. DBAs manage review configs;
 * only an admin writes approval rules (they decide who signs off on a DBA's own changes).
 */
const EDITORS = { reviewConfigs: ['workspaceAdmin', 'workspaceDBA'], approvalRules: ['workspaceAdmin'] } as const;
export const mayEdit = (me: User | undefined, what: keyof typeof EDITORS): boolean => !!me && (EDITORS[what] as readonly string[]).includes(me.role);
