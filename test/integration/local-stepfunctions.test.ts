// The pipeline state machine exactly as CDK synthesizes it, run locally by aws-local-stepfunctions
// with in-memory stand-ins for its five Lambdas: stages in order, the approval gate, the schedule
// gate, the failure gate and retry, cancel, concurrency, and AWS history events per task.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PIPELINE_ERRORS, TaskTokenGoneError, batchTaskIds, type AdvanceOutput, type FailureGateOutput, type GateInput, type RunBatchOutput, type RunTaskInput, type StageResultOutput } from '../../domain/pipeline/orchestrator.js';
import { PIPELINE_STATES as S } from '../../infra/lib/pipeline.js';
import { aslFromTemplate, localFunctionArn, LocalStepFunctions, type LocalHandler } from '../../infra/local/stepfunctions.js';
import { PIPELINE_FUNCTIONS, pipelineStack, type PipelineFunction } from '../support/pipeline-stack.js';

const p = pipelineStack();
const template = p.template.toJSON() as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
const asl = aslFromTemplate(template, p.stateMachineId);
const ISSUE = 'projects/hr/issues/1';
const EXEC = 'hr-1';

type TaskStatus = 'NOT_STARTED' | 'RUNNING' | 'DONE' | 'FAILED' | 'SKIPPED';
interface StageSpec {
  id: string;
  requireApproval?: boolean;
  runTime?: string;
  maxConcurrency?: number;
  tasks: string[];
}

/** An issue's pipeline in memory, behind the five Lambdas' contract (domain/pipeline/orchestrator.ts). */
class FakePipeline {
  readonly status = new Map<string, TaskStatus>();
  /** Tasks whose next run fails (as a failing statement would). */
  readonly failing = new Set<string>();
  /** Tasks whose next invocation throws this Lambda service error (once). */
  readonly throttled = new Map<string, string>();
  readonly approvalTokens = new Map<string, string>();
  readonly failureTokens = new Map<string, string>();
  /** Each runTask call: task, start and end time. */
  readonly runs: { task: string; start: number; end: number }[] = [];
  private running = 0;
  /** Most concurrent runTask calls seen, per stage. */
  readonly maxRunning = new Map<string, number>();
  /** Each batch invoke's task ids. */
  readonly batches: string[][] = [];

  /**
   * `batch`: what the runner does with a batch (`{issue, taskIds}`): runs its tasks one after another
   * (as run-task.ts does), hands them all back to the per-task path (as for a versioned issue), or crashes.
   */
  constructor(
    readonly stages: StageSpec[],
    private readonly taskMs = 5,
    private readonly batch: 'run' | 'handBack' | 'crash' = 'run',
  ) {
    for (const s of stages) for (const t of s.tasks) this.status.set(t, 'NOT_STARTED');
  }

  private stageOf(task: string): StageSpec {
    return this.stages.find((s) => s.tasks.includes(task))!;
  }

  readonly handlers: Record<PipelineFunction, LocalHandler> = {
    // Plan checks find nothing here (their own tests: test/e2e/plan-checks.test.ts).
    planCheck: () => ({ batches: [], maxConcurrency: 1 }),
    checkBatch: () => ({ checked: 0 }),
    checksResult: () => ({ status: 'SUCCESS', blocked: false }),
    checksGate: () => undefined,
    advance: (): AdvanceOutput => {
      const next = this.stages.find((s) => s.tasks.some((t) => !['DONE', 'SKIPPED'].includes(this.status.get(t)!)));
      if (!next) return { done: true };
      // As the real advance: FAILED tasks wait for :run (reset to NOT_STARTED) or :skip.
      const parallel = next.maxConcurrency ?? 10;
      return {
        done: false,
        stage: { id: next.id, requireApproval: next.requireApproval ?? false, maxConcurrency: parallel, ...(next.runTime ? { runTime: next.runTime } : {}) },
        batches: batchTaskIds(next.tasks.filter((t) => ['NOT_STARTED', 'RUNNING'].includes(this.status.get(t)!)), parallel),
      };
    },
    approvalGate: (event) => {
      const { stage, token } = event as GateInput;
      this.approvalTokens.set(stage, token);
    },
    runTask: async (event) => {
      const { taskIds } = event as { taskIds?: string[] };
      if (taskIds) {
        this.batches.push(taskIds);
        if (this.batch === 'crash') throw Object.assign(new Error('the batch runner died (injected)'), { name: 'Lambda.Unknown' });
        if (this.batch === 'handBack') return { rest: taskIds } satisfies RunBatchOutput;
        for (const task of taskIds) await this.runOne(task);
        return { rest: [] } satisfies RunBatchOutput;
      }
      return this.runOne((event as RunTaskInput).task);
    },
    stageResult: (event): StageResultOutput => {
      const stage = this.stages.find((s) => s.id === (event as { stage: string }).stage)!;
      return { status: stage.tasks.every((t) => ['DONE', 'SKIPPED'].includes(this.status.get(t)!)) ? 'DONE' : 'FAILED' };
    },
    failureGate: (event) => {
      const { stage, token } = event as GateInput;
      this.failureTokens.set(stage, token);
    },
  };

  /** One task, as the runner runs it (alone, or in its batch's turn). */
  private async runOne(task: string): Promise<{ status: string }> {
    const stage = this.stageOf(task).id;
    const throttle = this.throttled.get(task);
    if (throttle) {
      this.throttled.delete(task);
      throw Object.assign(new Error('Rate exceeded'), { name: throttle });
    }
    this.running += 1;
    this.maxRunning.set(stage, Math.max(this.maxRunning.get(stage) ?? 0, this.running));
    const start = Date.now();
    this.status.set(task, 'RUNNING');
    await new Promise((r) => setTimeout(r, this.taskMs));
    const failed = this.failing.delete(task);
    this.status.set(task, failed ? 'FAILED' : 'DONE');
    this.running -= 1;
    this.runs.push({ task, start, end: Date.now() });
    return { status: failed ? 'FAILED' : 'DONE' };
  }

  runsOf(task: string): number {
    return this.runs.filter((r) => r.task === task).length;
  }
}

let runner: LocalStepFunctions | undefined;

/** A runner over the synthesized ASL, each function's logical id mapped to the fake's handler. */
function start(fake: FakePipeline, options: { retryIntervals?: Record<string, number> } = {}): LocalStepFunctions {
  runner = new LocalStepFunctions({
    definition: asl,
    handlers: Object.fromEntries(PIPELINE_FUNCTIONS.map((f) => [p.fnIds[f], fake.handlers[f]])),
    ...options,
  });
  return runner;
}

const statesEntered = (r: LocalStepFunctions) => r.statesEntered(EXEC).map((e) => e.state);

afterEach(async () => {
  vi.restoreAllMocks();
  await runner?.close();
  runner = undefined;
});

describe('the definition the local runner executes', () => {
  it('is exactly the synthesized one, every Lambda resource mapped to its function', () => {
    // Prepare: the template's DefinitionString with its two kinds of intrinsics filled in by hand.
    const join = (template.Resources[p.stateMachineId]!.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
    const byHand = join
      .map((part) => {
        if (typeof part === 'string') return part;
        const att = (part as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
        return att ? localFunctionArn(att[0]) : (expect(part).toEqual({ Ref: 'AWS::Partition' }), 'aws');
      })
      .join('');

    // Act
    const r = start(new FakePipeline([]));

    // Assess
    expect(JSON.stringify(r.definition)).toBe(byHand);
    // The library's validator adds QueryLanguage to every state of what it is given: the runner
    // hands it a copy, so the definition stays as synthesized.
    expect(JSON.stringify(asl)).toBe(byHand);
    expect(r.taskFunctions).toEqual({
      [S.advance]: p.fnIds.advance,
      [S.approvalGate]: p.fnIds.approvalGate,
      [S.runTask]: p.fnIds.runTask,
      [S.runTaskAlone]: p.fnIds.runTask,
      [S.stageResult]: p.fnIds.stageResult,
      [S.failureGate]: p.fnIds.failureGate,
      [S.planCheck]: p.fnIds.planCheck,
      [S.checkBatch]: p.fnIds.checkBatch,
      [S.checksResult]: p.fnIds.checksResult,
      [S.checksGate]: p.fnIds.checksGate,
    });
  });

  it('refuses to run with a Lambda resource left unmapped, or a handler for a function it never invokes', () => {
    const fake = new FakePipeline([]);
    const handlers = Object.fromEntries(PIPELINE_FUNCTIONS.map((f) => [p.fnIds[f], fake.handlers[f]]));
    const { [p.fnIds.runTask]: _runTask, ...withoutRunTask } = handlers;

    expect(() => new LocalStepFunctions({ definition: asl, handlers: withoutRunTask })).toThrow(`no local handler for ${p.fnIds.runTask} (state ${S.runTask})`);
    expect(() => new LocalStepFunctions({ definition: asl, handlers: { ...handlers, Stray: () => null } })).toThrow(/functions the definition does not invoke: Stray/);
  });

  it('refuses an intrinsic it cannot resolve, rather than run something else', () => {
    const join = template.Resources[p.stateMachineId]!.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] };
    const tampered = structuredClone(template);
    tampered.Resources[p.stateMachineId]!.Properties.DefinitionString = { 'Fn::Join': ['', [...join['Fn::Join'][1], { Ref: 'AWS::Region' }]] };

    expect(() => aslFromTemplate(tampered, p.stateMachineId)).toThrow(/cannot resolve \{"Ref":"AWS::Region"\}/);
  });
});

describe('a pipeline run locally', () => {
  it('(a) runs stage 1, waits at stage 2 approval until the token is sent, then runs stage 2 and succeeds', async () => {
    // Prepare
    const fake = new FakePipeline([
      { id: 'test', tasks: ['1', '2', '3'] },
      { id: 'prod', requireApproval: true, tasks: ['4'] },
    ]);
    const r = start(fake);

    // Act
    await r.startExecution(EXEC, { issue: ISSUE });
    await vi.waitFor(() => expect(fake.approvalTokens.get('prod')).toBeDefined());
    await new Promise((res) => setTimeout(res, 50));
    const whileWaiting = { status: Object.fromEntries(fake.status), exec: await r.describeExecution(EXEC), pending: r.pendingTokens() };
    await r.sendTaskSuccess(fake.approvalTokens.get('prod')!, {});
    const done = await r.waitForExecution(EXEC);

    // Assess
    expect(whileWaiting.status).toEqual({ 1: 'DONE', 2: 'DONE', 3: 'DONE', 4: 'NOT_STARTED' });
    expect(whileWaiting.exec?.status).toBe('RUNNING');
    expect(whileWaiting.pending).toEqual([{ token: fake.approvalTokens.get('prod'), execution: EXEC, state: S.approvalGate }]);
    expect(done).toMatchObject({ status: 'SUCCEEDED', output: { issue: ISSUE, plan: { done: true } } });
    expect(Object.fromEntries(fake.status)).toEqual({ 1: 'DONE', 2: 'DONE', 3: 'DONE', 4: 'DONE' });
    expect(fake.runs.map((x) => x.task).slice(-1)).toEqual(['4']);
    expect(r.pendingTokens()).toEqual([]);
    expect(statesEntered(r).at(-1)).toBe(S.done);
  });

  it('(a2) a second start of the same issue is the same execution, not a second pipeline', async () => {
    const fake = new FakePipeline([{ id: 'prod', requireApproval: true, tasks: ['1'] }]);
    const r = start(fake);

    const first = await r.startExecution(EXEC, { issue: ISSUE });
    const second = await r.startExecution(EXEC, { issue: ISSUE });
    await vi.waitFor(() => expect(fake.approvalTokens.size).toBe(1));

    expect(first.alreadyStarted).toBe(false);
    expect(second).toEqual({ executionId: first.executionId, alreadyStarted: true });
    expect(statesEntered(r).filter((s) => s === S.advance)).toHaveLength(1);
  });

  it('(b) a rejection ends the pipeline Canceled, and the used token is gone', async () => {
    // Prepare
    const fake = new FakePipeline([{ id: 'prod', requireApproval: true, tasks: ['1'] }]);
    const r = start(fake);
    await r.startExecution(EXEC, { issue: ISSUE });
    await vi.waitFor(() => expect(fake.approvalTokens.get('prod')).toBeDefined());
    const token = fake.approvalTokens.get('prod')!;

    // Act
    await r.sendTaskFailure(token, PIPELINE_ERRORS.rejected, 'not during the freeze');
    const done = await r.waitForExecution(EXEC);

    // Assess
    expect(done).toMatchObject({ status: 'SUCCEEDED', output: { rejection: { Error: PIPELINE_ERRORS.rejected, Cause: 'not during the freeze' } } });
    expect(statesEntered(r).at(-1)).toBe(S.canceled);
    expect(fake.runs).toEqual([]);
    await expect(r.sendTaskSuccess(token, {})).rejects.toBeInstanceOf(TaskTokenGoneError);
  });

  it('(c) runs a scheduled stage no earlier than its runTime', async () => {
    // Prepare
    const runTime = new Date(Date.now() + 1_500);
    const fake = new FakePipeline([{ id: 'test', runTime: runTime.toISOString(), tasks: ['1', '2'] }]);
    const r = start(fake);

    // Act
    await r.startExecution(EXEC, { issue: ISSUE });
    const done = await r.waitForExecution(EXEC);

    // Assess: every run started at or after runTime (whatever the machine's load did to timers).
    expect(done.status).toBe('SUCCEEDED');
    expect(fake.runs).toHaveLength(2);
    expect(Math.min(...fake.runs.map((x) => x.start))).toBeGreaterThanOrEqual(runTime.getTime());
    expect(statesEntered(r)).toContain(S.waitForRunTime);
  });

  it('(d) pauses at the failure gate on a failed task; a retry re-runs only that task and the pipeline completes', async () => {
    // Prepare
    const fake = new FakePipeline([
      { id: 'test', tasks: ['1', '2', '3'] },
      { id: 'prod', tasks: ['4'] },
    ]);
    fake.failing.add('2');
    const r = start(fake);

    // Act: run until the stage fails, then `:run` task 2 (it is reset, then the token is sent).
    await r.startExecution(EXEC, { issue: ISSUE });
    await vi.waitFor(() => expect(fake.failureTokens.get('test')).toBeDefined());
    const atGate = { status: Object.fromEntries(fake.status), pending: r.pendingTokens().map((t) => t.state) };
    fake.status.set('2', 'NOT_STARTED');
    await r.sendTaskSuccess(fake.failureTokens.get('test')!, { taskIds: ['2'] } satisfies FailureGateOutput);
    const done = await r.waitForExecution(EXEC);

    // Assess
    expect(atGate.status).toEqual({ 1: 'DONE', 2: 'FAILED', 3: 'DONE', 4: 'NOT_STARTED' });
    expect(atGate.pending).toEqual([S.failureGate]);
    expect(done.status).toBe('SUCCEEDED');
    expect(['1', '2', '3', '4'].map((t) => fake.runsOf(t))).toEqual([1, 2, 1, 1]);
    expect(Object.fromEntries(fake.status)).toEqual({ 1: 'DONE', 2: 'DONE', 3: 'DONE', 4: 'DONE' });
  });

  it('(d2) a skip resolves the failure gate with nothing to re-run, and the pipeline moves on', async () => {
    const fake = new FakePipeline([
      { id: 'test', tasks: ['1', '2'] },
      { id: 'prod', tasks: ['3'] },
    ]);
    fake.failing.add('1');
    const r = start(fake);
    await r.startExecution(EXEC, { issue: ISSUE });
    await vi.waitFor(() => expect(fake.failureTokens.get('test')).toBeDefined());

    fake.status.set('1', 'SKIPPED');
    await r.sendTaskSuccess(fake.failureTokens.get('test')!, { taskIds: [] });
    const done = await r.waitForExecution(EXEC);

    expect(done.status).toBe('SUCCEEDED');
    expect(['1', '2', '3'].map((t) => fake.runsOf(t))).toEqual([1, 1, 1]);
    expect(fake.status.get('1')).toBe('SKIPPED');
  });

  it('(e) stop during a gate wait ends the execution at once and leaves no timer or token behind', async () => {
    // Prepare: watch the timers of at least the gate's TimeoutSeconds (7 days), the ones that
    // would keep the process alive for a week.
    const gateMs = 7 * 86_400 * 1000;
    const long = new Set<unknown>();
    const cleared = new Set<unknown>();
    const realSet = globalThis.setTimeout;
    const realClear = globalThis.clearTimeout;
    vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
      const t = realSet(fn, ms);
      if ((ms ?? 0) >= gateMs) long.add(t);
      return t;
    }) as typeof setTimeout);
    vi.spyOn(globalThis, 'clearTimeout').mockImplementation((t) => {
      cleared.add(t);
      realClear(t);
    });
    const fake = new FakePipeline([{ id: 'prod', requireApproval: true, tasks: ['1'] }]);
    const r = start(fake);
    await r.startExecution(EXEC, { issue: ISSUE });
    await vi.waitFor(() => expect(fake.approvalTokens.get('prod')).toBeDefined());
    const longWhileWaiting = long.size;

    // Act
    const t0 = Date.now();
    await r.stopExecution(EXEC, 'canceled by alice');
    const stopMs = Date.now() - t0;

    // Assess
    vi.restoreAllMocks();
    expect(longWhileWaiting).toBe(1);
    expect([...long].filter((t) => !cleared.has(t))).toEqual([]);
    expect(stopMs).toBeLessThan(500);
    expect(await r.describeExecution(EXEC)).toMatchObject({ status: 'ABORTED', cause: 'canceled by alice' });
    expect(r.pendingTokens()).toEqual([]);
    await expect(r.sendTaskSuccess(fake.approvalTokens.get('prod')!, {})).rejects.toBeInstanceOf(TaskTokenGoneError);
    expect(fake.runs).toEqual([]);
    await r.stopExecution(EXEC); // a second stop is a no-op
  });

  it('(f) runs at most the stage maxConcurrency tasks at a time', async () => {
    // Prepare
    const fake = new FakePipeline(
      [
        { id: 'test', maxConcurrency: 2, tasks: ['1', '2', '3', '4', '5', '6'] },
        { id: 'prod', maxConcurrency: 5, tasks: ['7', '8', '9', '10', '11', '12'] },
      ],
      30,
    );
    const r = start(fake);

    // Act
    await r.startExecution(EXEC, { issue: ISSUE });
    const done = await r.waitForExecution(EXEC);

    // Assess
    expect(done.status).toBe('SUCCEEDED');
    expect(Object.fromEntries(fake.maxRunning)).toEqual({ test: 2, prod: 5 });
  });

  it('fails the execution, as AWS would, when a Lambda returns more than 256 KiB', async () => {
    const fake = new FakePipeline([{ id: 'test', tasks: Array.from({ length: 30_000 }, (_, i) => `task-${i}`) }]);
    const r = start(fake);

    await r.startExecution(EXEC, { issue: ISSUE });
    const done = await r.waitForExecution(EXEC);

    expect(done).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    expect(fake.runs).toEqual([]);
  });
});

describe('history events (AWS rules, from the local event log): the parent execution and its Distributed Map children', () => {
  /** Counts by task id over every child execution: each event of a task's iteration carries its item {issue, task}. */
  const perTask = (r: LocalStepFunctions) => {
    const counts: Record<string, Record<string, number>> = {};
    for (const e of r.childHistories(EXEC).flat()) {
      const task = (e.item as { task?: string } | undefined)?.task ?? '(batch)';
      counts[task] ??= {};
      counts[task][e.type] = (counts[task][e.type] ?? 0) + 1;
    }
    return counts;
  };
  const total = (c: Record<string, number> | undefined) => Object.values(c ?? {}).reduce((a, b) => a + b, 0);

  it('(g) tasks handed back by their batch: 7 per task and 13 per batch in the children; a constant per stage in the parent, whatever the task count', async () => {
    // Prepare: 3 tasks at 2 at a time are 3 batches of 1 (every slot gets work); prod's 1 task is 1
    // batch. The runner hands every batch back (a versioned issue's): each task goes the per-task way.
    const fake = new FakePipeline(
      [
        { id: 'test', maxConcurrency: 2, tasks: ['1', '2', '3'] },
        { id: 'prod', requireApproval: true, tasks: ['4'] },
      ],
      5,
      'handBack',
    );
    const r = start(fake);

    // Act
    await r.startExecution(EXEC, { issue: ISSUE });
    await vi.waitFor(() => expect(fake.approvalTokens.get('prod')).toBeDefined());
    await r.sendTaskSuccess(fake.approvalTokens.get('prod')!, {});
    await r.waitForExecution(EXEC);
    const counts = perTask(r);
    const parent = r.historyEvents(EXEC);
    const children = r.childHistories(EXEC);

    // Assess
    const transitions = r.statesEntered(EXEC);
    console.log(`parent ${parent.length} history events, ${children.length} children of ${children.map((c) => c.length).join('/')} events, ${transitions.length} state transitions in all, for 4 tasks in 2 stages (one approval gate)`);
    for (const task of ['1', '2', '3', '4']) {
      expect(counts[task], task).toEqual({
        MapIterationStarted: 1,
        TaskStateEntered: 1,
        LambdaFunctionScheduled: 1,
        LambdaFunctionStarted: 1,
        LambdaFunctionSucceeded: 1,
        TaskStateExited: 1,
        MapIterationSucceeded: 1,
      });
    }
    // Per child: ExecutionStarted, RunTask's five events (the batch's invoke), RunBatch's four Map
    // events, BatchDone's two, ExecutionSucceeded; and 7 per task handed back.
    expect(children.map((c) => c.length)).toEqual([20, 20, 20, 20]);
    expect(total(counts['(batch)'])).toBe(4 * 13);
    expect(children.every((c) => c[0]!.type === 'ExecutionStarted' && c.at(-1)!.type === 'ExecutionSucceeded')).toBe(true);
    // Parent, per stage: Advance 5, three Choices 6, RunStage 6 (with MapRunStarted/Succeeded),
    // StageResult 5, StageFailed? 2 = 24; the approval gate adds 6. Per execution: Started, the
    // last Advance 5 and Done? 2, Done 2, Succeeded. No event of a task is in the parent.
    // The plan checks first, once per execution: PlanCheck 5, CheckTargets 6 (its own Map Run, no
    // batch here), ChecksResult 5, ChecksBlocked? 2 = 18.
    expect(parent.filter((e) => e.type.startsWith('MapRun')).map((e) => e.type)).toEqual(['MapRunStarted', 'MapRunSucceeded', 'MapRunStarted', 'MapRunSucceeded', 'MapRunStarted', 'MapRunSucceeded']);
    expect(parent.some((e) => e.item !== undefined)).toBe(false);
    expect(parent.length).toBe(18 + 2 * 24 + 6 + 1 + 5 + 2 + 2 + 1);
    // Billing: one transition per task handed back (RunTaskAlone), three per batch (RunTask,
    // RunBatch, BatchDone); 7 per stage, +1 for the gate; Advance, Done? and Done to finish.
    expect(transitions.filter((t) => (t.item as { task?: string } | undefined)?.task === '2').map((t) => t.state)).toEqual([S.runTaskAlone]);
    expect(transitions).toHaveLength(4 + 4 * 3 + 2 * 7 + 1 + 3 + 4);
  });

  it('(g2) 1,000 tasks at 10 at a time: 40 children of 25 tasks, 13 events each whatever their task count, and the parent history is what one task gives', async () => {
    const tasks = Array.from({ length: 1000 }, (_, i) => String(i + 1));
    const fake = new FakePipeline([{ id: 'test', maxConcurrency: 10, tasks }], 0);
    const r = start(fake);

    await r.startExecution(EXEC, { issue: ISSUE });
    const done = await r.waitForExecution(EXEC);

    expect(done.status).toBe('SUCCEEDED');
    expect(Math.max(...fake.maxRunning.values())).toBeLessThanOrEqual(10);
    const children = r.childHistories(EXEC);
    // Each batch run by one invoke (RunTask), RunBatch's Map over nothing left: 13 events, where
    // 25 tasks invoked one by one took 8 + 25 × 7 = 183.
    expect(children.map((c) => c.length)).toEqual(Array(40).fill(13));
    expect(fake.batches).toHaveLength(40);
    expect(fake.runs).toHaveLength(1000);
    // One stage, no gate: 18 (the plan checks) + 24 + 11, the same as a single-task pipeline.
    expect(r.historyEvents(EXEC)).toHaveLength(53);
  });

  it('a batch invoke that crashes falls back to its tasks one by one: each runs once, and the stage goes on', async () => {
    const fake = new FakePipeline([{ id: 'test', maxConcurrency: 1, tasks: ['1', '2', '3'] }], 5, 'crash');
    const r = start(fake);

    await r.startExecution(EXEC, { issue: ISSUE });
    const done = await r.waitForExecution(EXEC);

    expect(done.status).toBe('SUCCEEDED');
    expect(fake.batches).toEqual([['1', '2', '3']]);
    expect(['1', '2', '3'].map((t) => fake.runsOf(t))).toEqual([1, 1, 1]);
    const entered = statesEntered(r);
    expect(entered.filter((x) => x === S.batchErrored)).toHaveLength(1);
    expect(entered.filter((x) => x === S.runTaskAlone)).toHaveLength(3);
  });

  it('a throttled invoke retried once costs 3 more events for that task only', async () => {
    // Prepare: tasks the batch handed back, each invoked alone.
    const fake = new FakePipeline([{ id: 'test', tasks: ['1', '2'] }], 5, 'handBack');
    fake.throttled.set('2', 'Lambda.TooManyRequestsException');
    const r = start(fake, { retryIntervals: { [S.runTaskAlone]: 0 } });

    // Act
    await r.startExecution(EXEC, { issue: ISSUE });
    const done = await r.waitForExecution(EXEC);
    const counts = perTask(r);

    // Assess
    expect(done.status).toBe('SUCCEEDED');
    expect(fake.runsOf('2')).toBe(1);
    expect(total(counts['1'])).toBe(7);
    expect(counts['2']).toMatchObject({ LambdaFunctionScheduled: 2, LambdaFunctionStarted: 2, LambdaFunctionFailed: 1, LambdaFunctionSucceeded: 1 });
    expect(total(counts['2'])).toBe(10);
  });
});
