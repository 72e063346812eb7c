import type { Access } from '../../domain/access/access.js';
import { UnauthenticatedError } from '../../domain/common/errors.js';
import { approveStage, rejectStage, requestApproval } from '../../domain/pipeline/approvals.js';
import { cancelIssue, createIssue, getIssue, listIssues, listPlanCheckRuns, overrideChecks, updateIssue } from '../../domain/pipeline/issues.js';
import { getTaskRun, listActivities, listStageTasks, listTaskRuns, runTask, skipTask } from '../../domain/pipeline/tasks.js';
import { parseIssueNumber, parseTaskId, taskName, type IssueAggregate, type IssueView } from '../../domain/pipeline/model.js';
import { toActivityResource, toIssueResource, toTaskPlanCheckResource, toTaskRunResource } from '../../domain/pipeline/resources.js';
import { parseUserChosenId } from '../../domain/common/names.js';
import { httpHandler, type Request } from '../shared/http.js';
import { listPage } from '../shared/paging.js';
import { deps, idempotency, audit } from '../shared/wiring.js';
import { issueDeps } from '../shared/wiring-issues.js';

const rollback = () => import('../../domain/pipeline/rollback.js');

const caller = (req: Request): Access => {
  if (!req.access) throw new UnauthenticatedError();
  return req.access;
};
const project = (req: Request): string => parseUserChosenId(req.params.project!, 'project');
const issue = (req: Request): number => parseIssueNumber(req.params.issue!);
const stage = (req: Request): string => parseUserChosenId(req.params.stage!, 'stage');
const task = (req: Request): number => parseTaskId(req.params.task!);
const full = (a: IssueAggregate | IssueView) => ({ body: toIssueResource(a.issue, a) });

export const handler = httpHandler('issues', { deps, idempotency, audit }, {
  listIssues: async (req) => {
    const p = project(req);
    const filter = req.query.filter;
    const { items, nextPageToken } = await listPage(req, `projects/${p}/issues?filter=${filter ?? ''}`, (o) => listIssues(issueDeps(), caller(req), p, filter, o), (i) => toIssueResource(i));
    return { body: { issues: items, ...(nextPageToken ? { nextPageToken } : {}) } };
  },
  createIssue: async (req) => full(await createIssue(issueDeps(), caller(req), project(req), req.body)),
  getIssue: async (req) => full(await getIssue(issueDeps(), caller(req), project(req), issue(req))),
  updateIssue: async (req) => full(await updateIssue(issueDeps(), caller(req), project(req), issue(req), req.body, req.query.updateMask, req.headers['if-match'])),
  cancelIssue: async (req) => full(await cancelIssue(issueDeps(), caller(req), project(req), issue(req))),
  approveStage: async (req) => full(await approveStage(issueDeps(), caller(req), project(req), issue(req), stage(req), req.body)),
  rejectStage: async (req) => full(await rejectStage(issueDeps(), caller(req), project(req), issue(req), stage(req), req.body)),
  requestApproval: async (req) => full(await requestApproval(issueDeps(), caller(req), project(req), issue(req), stage(req), req.body)),
  runTask: async (req) => full(await runTask(issueDeps(), caller(req), project(req), issue(req), stage(req), task(req), req.body)),
  skipTask: async (req) => full(await skipTask(issueDeps(), caller(req), project(req), issue(req), stage(req), task(req), req.body)),
  listTaskRuns: async (req) => {
    const { task: t, runs } = await listTaskRuns(issueDeps(), caller(req), project(req), issue(req), stage(req), task(req));
    return { body: { taskRuns: runs.map((r) => toTaskRunResource(t, r)) } };
  },
  getTaskRun: async (req) => {
    const { task: t, run } = await getTaskRun(issueDeps(), caller(req), project(req), issue(req), stage(req), task(req), req.params.taskRun!);
    return { body: toTaskRunResource(t, run) };
  },
  // Rollback (and the restore SQL it writes) loads on first use: most cold starts never need it.
  previewRollback: async (req) => ({ body: await (await rollback()).previewRollback(issueDeps(), caller(req), project(req), issue(req), stage(req), task(req), req.params.taskRun!) }),
  rollbackIssue: async (req) => full(await (await rollback()).rollbackIssue(issueDeps(), caller(req), project(req), issue(req), req.body)),
  listActivities: async (req) => {
    const [p, n] = [project(req), issue(req)];
    const { items, nextPageToken } = await listPage(req, `projects/${p}/issues/${n}/activities`, (o) => listActivities(issueDeps(), caller(req), p, n, o), toActivityResource);
    return { body: { activities: items, ...(nextPageToken ? { nextPageToken } : {}) } };
  },
  overrideChecks: async (req) => full(await overrideChecks(issueDeps(), caller(req), project(req), issue(req), req.body)),
  listPlanCheckRuns: async (req) => {
    const [p, n] = [project(req), issue(req)];
    let agg: IssueAggregate | undefined;
    const { items, nextPageToken } = await listPage(
      req,
      `projects/${p}/issues/${n}/planCheckRuns`,
      async (o) => {
        const out = await listPlanCheckRuns(issueDeps(), caller(req), p, n, o);
        agg = out.agg;
        return out.page;
      },
      (r) => {
        const t = agg!.tasks.find((x) => x.id === r.task);
        const name = t ? taskName(t) : `projects/${p}/issues/${n}/tasks/${r.task}`;
        return { name: `${name}/planCheckRuns/1`, task: name, ...toTaskPlanCheckResource(r.check) };
      },
    );
    return { body: { planCheckRuns: items, ...(nextPageToken ? { nextPageToken } : {}) } };
  },
  listTasks: async (req) => {
    const [p, n, s, filter] = [project(req), issue(req), stage(req), req.query.filter];
    const { items, nextPageToken } = await listPage(req, `projects/${p}/issues/${n}/stages/${s}/tasks?filter=${filter ?? ''}`, (o) => listStageTasks(issueDeps(), caller(req), p, n, s, filter, o), (t) => t);
    return { body: { tasks: items, ...(nextPageToken ? { nextPageToken } : {}) } };
  },
});
