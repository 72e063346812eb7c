import * as z from 'zod/mini';
import { lazySchema } from '../common/lazy.js';
import { ECHOED, Timestamp, Title, checkEtag, etagOf, parse, resolveUpdateMask } from '../common/values.js';
import { NotFoundError } from '../common/errors.js';
import type { AccessDeps } from './ports.js';
import { isAllowlistEntry } from '../common/outbound.js';

export const WORKSPACE_NAME = 'workspace';

/** How long audit entries are kept (a protobuf Duration in JSON: whole seconds, `"7776000s"`). */
export const DEFAULT_AUDIT_RETENTION = '7776000s';
const DAY_SECONDS = 86_400;
const MIN_RETENTION_DAYS = 1;
const MAX_RETENTION_DAYS = 3650;
const AuditRetention = /* @__PURE__ */ lazySchema(() => z.string().check(
  z.regex(/^\d{1,10}s$/, 'must be a duration in whole seconds, like "7776000s" (90 days)'),
  z.refine((v) => {
    const s = Number(v.slice(0, -1));
    return s >= MIN_RETENTION_DAYS * DAY_SECONDS && s <= MAX_RETENTION_DAYS * DAY_SECONDS;
  }, `must be between ${MIN_RETENTION_DAYS * DAY_SECONDS}s (1 day) and ${MAX_RETENTION_DAYS * DAY_SECONDS}s (${MAX_RETENTION_DAYS} days)`),
));

/** How often every instance is synced on a schedule (domain/schema/schedule.ts): a duration in whole seconds. */
export const DEFAULT_SYNC_INTERVAL = '1800s';
/** The schedule ticks every minute (an EventBridge rate): a shorter interval could not be kept. */
export const MIN_SYNC_INTERVAL_SECONDS = 60;
export const MAX_SYNC_INTERVAL_SECONDS = 7 * DAY_SECONDS;
const SyncInterval = /* @__PURE__ */ lazySchema(() => z.string().check(
  z.regex(/^\d{1,10}s$/, 'must be a duration in whole seconds, like "1800s" (30 minutes)'),
  z.refine((v) => {
    const s = Number(v.slice(0, -1));
    return s >= MIN_SYNC_INTERVAL_SECONDS && s <= MAX_SYNC_INTERVAL_SECONDS;
  }, `must be between ${MIN_SYNC_INTERVAL_SECONDS}s (1 minute) and ${MAX_SYNC_INTERVAL_SECONDS}s (7 days)`),
));

/** The workspace's sync interval in seconds (the default for a workspace stored before the setting existed). */
export const syncIntervalSeconds = (w: Pick<Workspace, 'syncInterval'> | undefined): number =>
  Number((w?.syncInterval ?? DEFAULT_SYNC_INTERVAL).slice(0, -1));

/** The workspace's audit retention in seconds (the default for a workspace stored before the setting existed). */
export const auditRetentionSeconds = (w: Pick<Workspace, 'auditRetention'> | undefined): number =>
  Number((w?.auditRetention ?? DEFAULT_AUDIT_RETENTION).slice(0, -1));

export interface Workspace {
  title: string;
  allowSelfApproval: boolean;
  /** Absent on a workspace stored before the setting existed: DEFAULT_AUDIT_RETENTION. */
  auditRetention?: string;
  /** Hosts, IP addresses or CIDR ranges outbound calls (webhooks, the GitOps apiUrl) may reach though private (domain/common/outbound.ts). */
  outboundAllowlist?: string[];
  /** How often the schedule syncs every instance; absent: DEFAULT_SYNC_INTERVAL. */
  syncInterval?: string;
  createTime: string;
  updateTime: string;
  version: number;
}

export const WorkspaceResource = /* @__PURE__ */ z.object({
  name: /* @__PURE__ */ z.literal(WORKSPACE_NAME),
  title: /* @__PURE__ */ z.string(),
  allowSelfApproval: /* @__PURE__ */ z.boolean(),
  auditRetention: /* @__PURE__ */ z.string(),
  outboundAllowlist: /* @__PURE__ */ z.array(/* @__PURE__ */ z.string()),
  syncInterval: /* @__PURE__ */ z.string(),
  createTime: Timestamp,
  updateTime: Timestamp,
  etag: /* @__PURE__ */ z.string(),
});

export const WorkspacePatch = /* @__PURE__ */ lazySchema(() => z.strictObject({
  title: z.optional(Title),
  allowSelfApproval: z.optional(z.boolean()),
  auditRetention: z.optional(AuditRetention),
  outboundAllowlist: z.optional(z.array(z.string().check(z.refine(isAllowlistEntry, 'must be a host name, an IP address or a CIDR range like 10.0.0.0/8'))).check(z.maxLength(100))),
  syncInterval: z.optional(SyncInterval),
  ...ECHOED,
}));
const MUTABLE = ['title', 'allowSelfApproval', 'auditRetention', 'outboundAllowlist', 'syncInterval'] as const;

export const toWorkspaceResource = (w: Workspace): z.infer<typeof WorkspaceResource> => ({
  name: WORKSPACE_NAME,
  title: w.title,
  allowSelfApproval: w.allowSelfApproval,
  auditRetention: w.auditRetention ?? DEFAULT_AUDIT_RETENTION,
  outboundAllowlist: w.outboundAllowlist ?? [],
  syncInterval: w.syncInterval ?? DEFAULT_SYNC_INTERVAL,
  createTime: w.createTime,
  updateTime: w.updateTime,
  etag: etagOf(WORKSPACE_NAME, w.version),
});

export function newWorkspace(now: Date): Omit<Workspace, 'version'> {
  const t = now.toISOString();
  return { title: 'Sluice', allowSelfApproval: false, createTime: t, updateTime: t };
}

export async function getWorkspace(deps: AccessDeps): Promise<Workspace> {
  const ws = await deps.workspace.get();
  if (!ws) throw new NotFoundError(WORKSPACE_NAME);
  return ws;
}

export async function updateWorkspace(
  deps: AccessDeps,
  body: unknown,
  mask: string | undefined,
  ifMatch: string | undefined,
): Promise<Workspace> {
  const patch = parse(WorkspacePatch, body);
  const fields = resolveUpdateMask(mask, patch, MUTABLE);
  const current = await getWorkspace(deps);
  checkEtag(WORKSPACE_NAME, current.version, ifMatch, patch.etag);
  const next: Workspace = { ...current, updateTime: deps.now().toISOString() };
  if (fields.includes('title')) next.title = patch.title!;
  if (fields.includes('allowSelfApproval')) next.allowSelfApproval = patch.allowSelfApproval!;
  if (fields.includes('auditRetention')) next.auditRetention = patch.auditRetention!;
  if (fields.includes('syncInterval')) next.syncInterval = patch.syncInterval!;
  if (fields.includes('outboundAllowlist')) next.outboundAllowlist = [...new Set(patch.outboundAllowlist!.map((e) => e.trim().toLowerCase()))];
  if (fields.length === 0) return current;
  return deps.workspace.update(next, current.version);
}
