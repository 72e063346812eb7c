import * as z from 'zod/mini';
import { ECHOED, Timestamp, Title, checkEtag, etagOf, parse, resolveUpdateMask } from '../common/values.js';
import { NotFoundError } from '../common/errors.js';
import type { AccessDeps } from './ports.js';

export const WORKSPACE_NAME = 'workspace';

export interface Workspace {
  title: string;
  allowSelfApproval: boolean;
  createTime: string;
  updateTime: string;
  version: number;
}

export const WorkspaceResource = /* @__PURE__ */ z.object({
  name: /* @__PURE__ */ z.literal(WORKSPACE_NAME),
  title: /* @__PURE__ */ z.string(),
  allowSelfApproval: /* @__PURE__ */ z.boolean(),
  createTime: Timestamp,
  updateTime: Timestamp,
  etag: /* @__PURE__ */ z.string(),
});

export const WorkspacePatch = z.strictObject({
  title: z.optional(Title),
  allowSelfApproval: z.optional(z.boolean()),
  ...ECHOED,
});
const MUTABLE = ['title', 'allowSelfApproval'] as const;

export const toWorkspaceResource = (w: Workspace): z.infer<typeof WorkspaceResource> => ({
  name: WORKSPACE_NAME,
  title: w.title,
  allowSelfApproval: w.allowSelfApproval,
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
  if (fields.length === 0) return current;
  return deps.workspace.update(next, current.version);
}
