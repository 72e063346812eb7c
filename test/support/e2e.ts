// What the end-to-end suites over HTTP share: reading an answer with its expected status, and
// following an issue's pipeline until it settles.
import { expect } from 'vitest';
import { waitFor, type Api, type CallResult } from './http.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API JSON
export type Body = any;

/** The answer's JSON, after checking its status (the body is the failure message). */
export const ok = (res: CallResult, status = 200): Body => {
  expect(res.status, res.text).toBe(status);
  return res.json;
};

export const tasksOf = (issue: Body): Body[] => issue.pipeline.stages.flatMap((s: Body) => s.tasks);
/** Every stage held by its plan checks. */
export const blocked = (issue: Body): boolean => issue.pipeline.stages.every((s: Body) => s.status === 'BLOCKED');

/** Reads and waits on issues through `api()` (a getter: the suites start their API in beforeAll). */
export function issueReader(api: () => Api, timeoutMs = 120_000) {
  const getIssue = async (name: string): Promise<Body> => ok(await api().call('GET', `/v1/${name}`));
  const waitIssue = (name: string, what: string, done: (issue: Body) => boolean) => waitFor(what, () => getIssue(name), done, timeoutMs);
  return { getIssue, waitIssue };
}
