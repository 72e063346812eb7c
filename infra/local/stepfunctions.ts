// The local Step Functions: the ASL that CDK synthesizes, run by aws-local-stepfunctions with each
// Lambda resource mapped to a local handler, plus what that library lacks: task tokens for
// `.waitForTaskToken` states, named executions (start idempotent by name, stop, describe), the
// payload limit, and an event log from which AWS history events are estimated.
// It implements the same Orchestrator port as the cloud's SFN client (domain/pipeline/orchestrator.ts).
import { randomUUID } from 'node:crypto';
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  StateMachine,
  type RunOptions,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import { TaskTokenGoneError, type ExecutionDescription, type ExecutionStatus, type Json, type Orchestrator, type StartedExecution } from '../../domain/pipeline/orchestrator.js';

/** A promise with its settle functions (Promise.withResolvers, which Node 20 lacks). */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
// aws-local-stepfunctions 3 calls Promise.withResolvers (Node 22+): polyfill it on Node 20.
const P = Promise as unknown as { withResolvers?: () => unknown };
P.withResolvers ??= deferred;

/** Step Functions' payload limit for inputs, outputs and task results (UTF-8 bytes). */
export const PAYLOAD_LIMIT = 256 * 1024;
/** Node's setTimeout overflows past this (it then fires at once): a longer TimeoutSeconds cannot run locally. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const LOCAL_REGION = 'us-east-1';
const LOCAL_ACCOUNT = '123456789012';

/** The ARN a resolved template gives a function: its name is the function's logical id. */
export const localFunctionArn = (logicalId: string): string => `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${logicalId}`;

export type Asl = StateMachineDefinition;

interface TemplateJson {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
}

/**
 * The state machine's ASL exactly as deployed, from a synthesized template (Template.toJSON(),
 * or cdk.out's JSON): the DefinitionString's `Fn::Join` with `Fn::GetAtt [fn, Arn]` resolved to
 * localFunctionArn(fn) and `Ref AWS::Partition` to `aws`. Anything else fails loudly.
 */
export function aslFromTemplate(template: TemplateJson, logicalId: string): Asl {
  const resource = template.Resources[logicalId];
  if (resource?.Type !== 'AWS::StepFunctions::StateMachine') throw new Error(`${logicalId} is not an AWS::StepFunctions::StateMachine in this template`);
  const props = resource.Properties ?? {};
  if (props.DefinitionSubstitutions !== undefined) throw new Error(`${logicalId}: DefinitionSubstitutions are not supported locally`);
  const def = props.DefinitionString;
  const resolvePart = (part: unknown): string => {
    if (typeof part === 'string') return part;
    const p = part as Record<string, unknown>;
    if (p.Ref === 'AWS::Partition') return 'aws';
    const att = p['Fn::GetAtt'] as unknown[] | undefined;
    if (Array.isArray(att) && att[1] === 'Arn' && typeof att[0] === 'string') {
      const target = template.Resources[att[0]];
      if (target?.Type !== 'AWS::Lambda::Function') throw new Error(`${logicalId}: Fn::GetAtt ${att[0]}.Arn is not a Lambda function`);
      return localFunctionArn(att[0]);
    }
    throw new Error(`${logicalId}: cannot resolve ${JSON.stringify(part)} locally (only Fn::GetAtt [function, Arn] and Ref AWS::Partition)`);
  };
  let text: string;
  if (typeof def === 'string') text = def;
  else {
    const join = (def as Record<string, unknown> | undefined)?.['Fn::Join'] as [string, unknown[]] | undefined;
    if (!join || join[0] !== '') throw new Error(`${logicalId}: DefinitionString is neither a string nor an Fn::Join with ''`);
    text = join[1].map(resolvePart).join('');
  }
  return JSON.parse(text) as Asl;
}

/** A local stand-in for a Lambda function: receives the event, returns the result. */
export type LocalHandler = (event: Json) => unknown;

type ResourceKind = 'lambda' | 'lambda:invoke' | 'waitForTaskToken';
interface TaskResource {
  state: string;
  kind: ResourceKind;
  /** Function name (the logical id for a CDK-synthesized ASL). */
  fn: string;
  timeoutSeconds?: number;
}

type AnyState = Record<string, unknown> & { Type: string };

function functionNameOf(arnOrName: string): string {
  const m = /^arn:[^:]+:lambda:[^:]*:[^:]*:function:([^:]+)(:[^:]+)?$/.exec(arnOrName);
  return m ? m[1]! : arnOrName;
}

type StatesOf = { States: Record<string, unknown> };
const processorOf = (state: AnyState): StatesOf => (state.ItemProcessor ?? state.Iterator) as StatesOf;
const isDistributed = (state: AnyState): boolean => (processorOf(state) as { ProcessorConfig?: { Mode?: string } }).ProcessorConfig?.Mode === 'DISTRIBUTED';

/** Distributed Map states (run inline here, see splitDistributed), each with every state name inside it. */
function distributedMaps(asl: Asl): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const names = (def: StatesOf, into: Set<string>): void => {
    for (const [name, raw] of Object.entries(def.States)) {
      into.add(name);
      const state = raw as AnyState;
      if (state.Type === 'Map') names(processorOf(state), into);
      if (state.Type === 'Parallel') for (const b of state.Branches as StatesOf[]) names(b, into);
    }
  };
  const walk = (def: StatesOf): void => {
    for (const [name, raw] of Object.entries(def.States)) {
      const state = raw as AnyState;
      if (state.Type === 'Map') {
        if (isDistributed(state)) {
          const inside = new Set<string>();
          names(processorOf(state), inside);
          out.set(name, inside);
        } else walk(processorOf(state));
      }
      if (state.Type === 'Parallel') for (const b of state.Branches as StatesOf[]) walk(b);
    }
  };
  walk(asl as unknown as StatesOf);
  return out;
}

/** Every Task state of the machine (nested Maps and Parallels included), with its function. */
function taskResources(asl: Asl): TaskResource[] {
  const out: TaskResource[] = [];
  const seen = new Set<string>();
  const walk = (def: { States: Record<string, unknown> }) => {
    for (const [name, raw] of Object.entries(def.States)) {
      // Local handlers are keyed by state name: a name used twice would get one handler.
      if (seen.has(name)) throw new Error(`state name ${name} is used twice; names must be unique across the machine`);
      seen.add(name);
      const state = raw as AnyState;
      if (state.Type === 'Map') walk((state.ItemProcessor ?? state.Iterator) as { States: Record<string, unknown> });
      if (state.Type === 'Parallel') for (const b of state.Branches as { States: Record<string, unknown> }[]) walk(b);
      if (state.Type !== 'Task') continue;
      const resource = String(state.Resource);
      const timeoutSeconds = typeof state.TimeoutSeconds === 'number' ? state.TimeoutSeconds : undefined;
      if (timeoutSeconds !== undefined && timeoutSeconds * 1000 > MAX_TIMER_MS) {
        throw new Error(`state ${name}: TimeoutSeconds ${timeoutSeconds} exceeds what runs locally (${Math.floor(MAX_TIMER_MS / 1000)} s, Node's timer limit)`);
      }
      const integration = /^arn:[^:]+:states:::lambda:invoke(\.waitForTaskToken)?$/.exec(resource);
      if (integration) {
        const params = (state.Parameters ?? {}) as Record<string, unknown>;
        if (typeof params.FunctionName !== 'string') throw new Error(`state ${name}: FunctionName must be a literal locally, got ${JSON.stringify(params.FunctionName ?? params['FunctionName.$'])}`);
        out.push({ state: name, kind: integration[1] ? 'waitForTaskToken' : 'lambda:invoke', fn: functionNameOf(params.FunctionName), timeoutSeconds });
      } else if (/^arn:[^:]+:lambda:/.test(resource)) {
        out.push({ state: name, kind: 'lambda', fn: functionNameOf(resource), timeoutSeconds });
      } else {
        throw new Error(`state ${name}: resource ${resource} is not supported locally (Lambda only)`);
      }
    }
  };
  walk(asl);
  return out;
}

/** JSON in, JSON out, within the payload limit: what crossing a Lambda or API boundary does. */
function wire(value: unknown, what: string): Json {
  const text = JSON.stringify(value === undefined ? null : value);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > PAYLOAD_LIMIT) {
    // Terminal on AWS: States.ALL neither retries nor catches it (the library honours these flags).
    throw Object.assign(named('States.DataLimitExceeded', `${what} is ${bytes} bytes, over the ${PAYLOAD_LIMIT}-byte limit`), { isRetryable: false, isCatchable: false });
  }
  return JSON.parse(text) as Json;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** An error with the name Retry and Catch match on (Lambda's errorType, or sendTaskFailure's error). */
function named(name: string, message: string): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

type Run = ReturnType<StateMachine['run']>;
type LibraryEvent = Run['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

/** One event of an execution's local event log: the library's event, tagged with the execution. */
export type LocalEvent = LibraryEvent & { execution: string };

/** An AWS execution-history event estimated from the local log (see historyEvents). */
export interface HistoryEvent {
  type: string;
  state?: string;
  /** The input of the Map iteration the event belongs to, if any. */
  item?: Json;
}

interface PendingToken {
  execution: string;
  state: string;
  deadline: number;
  resolve: (v: Json) => void;
  reject: (e: Error) => void;
}

interface Execution {
  name: string;
  id: string;
  input: Json;
  status: ExecutionStatus;
  output?: Json;
  error?: string;
  cause?: string;
  startDate: Date;
  stopDate?: Date;
  abort?: () => void;
  /** Issued through $$.Task.Token but not yet picked up by a gate. */
  issued: Set<string>;
  /** Resolves when the execution has ended and its event log is drained. */
  settled: Promise<void>;
}

export interface LocalStepFunctionsOptions {
  /** The ASL, e.g. from aslFromTemplate: run exactly as given. */
  definition: Asl;
  /** By function name (for a CDK template: the function's logical id). Every one must be used. */
  handlers: Readonly<Record<string, LocalHandler>>;
  /** Retry waits in ms by state name (the library's retryIntervalOverrides), e.g. 0 in tests. */
  retryIntervals?: Readonly<Record<string, number | number[]>>;
  /** For execution ids: the state machine's name. */
  stateMachineName?: string;
}

export class LocalStepFunctions implements Orchestrator {
  /** The definition this runner executes, unchanged. */
  readonly definition: Asl;
  /** Every event of every execution, in arrival order. */
  readonly events: LocalEvent[] = [];
  private readonly machine: StateMachine;
  private readonly resources: TaskResource[];
  /** Each Distributed Map state, with the names of the states inside its processor. */
  private readonly distributed: Map<string, Set<string>>;
  private readonly handlers: Readonly<Record<string, LocalHandler>>;
  private readonly executions = new Map<string, Execution>();
  private readonly tokens = new Map<string, PendingToken>();
  private readonly retryIntervals?: Readonly<Record<string, number | number[]>>;
  private readonly stateMachineName: string;

  constructor(options: LocalStepFunctionsOptions) {
    this.definition = deepFreeze(structuredClone(options.definition));
    this.resources = taskResources(options.definition);
    this.distributed = distributedMaps(options.definition);
    const used = new Set(this.resources.map((r) => r.fn));
    const unmapped = this.resources.filter((r) => !options.handlers[r.fn]);
    if (unmapped.length > 0) {
      throw new Error(`no local handler for ${unmapped.map((r) => `${r.fn} (state ${r.state})`).join(', ')}`);
    }
    const unused = Object.keys(options.handlers).filter((fn) => !used.has(fn));
    if (unused.length > 0) throw new Error(`local handlers for functions the definition does not invoke: ${unused.join(', ')}`);
    this.handlers = options.handlers;
    this.retryIntervals = options.retryIntervals;
    this.stateMachineName = options.stateMachineName ?? 'Pipeline';
    // Validated (ASL schema, ARNs, paths) like the real service does at deploy. On a copy: the
    // validator writes a default QueryLanguage into every state of the object it is given.
    this.machine = new StateMachine(structuredClone(options.definition));
  }

  /** Function name of each Task state, so a caller can check its mapping. */
  get taskFunctions(): Readonly<Record<string, string>> {
    return Object.fromEntries(this.resources.map((r) => [r.state, r.fn]));
  }

  async startExecution(name: string, input: Json): Promise<StartedExecution> {
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(name)) throw named('InvalidName', `execution name ${JSON.stringify(name)}: 1-80 of [A-Za-z0-9_-]`);
    const existing = this.executions.get(name);
    if (existing) return { executionId: existing.id, alreadyStarted: true };
    const payload = wire(input, 'execution input');
    const exec: Execution = {
      name,
      id: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:${this.stateMachineName}:${name}`,
      input: payload,
      status: 'RUNNING',
      startDate: new Date(),
      issued: new Set(),
      settled: Promise.resolve(),
    };
    this.executions.set(name, exec);

    const issueToken = () => this.issueToken(exec);
    const options: RunOptions = {
      overrides: { taskResourceLocalHandlers: this.localHandlers(exec), retryIntervalOverrides: { ...this.retryIntervals } },
      context: {
        Execution: { Id: exec.id, Name: name },
        StateMachine: { Id: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${this.stateMachineName}`, Name: this.stateMachineName },
        // `$$.Task.Token`: a fresh token each time a state's Parameters read it.
        Task: {
          get Token() {
            return issueToken();
          },
        },
      },
    };
    const run = this.machine.run(payload, options);
    exec.abort = run.abort;
    const drained = (async () => {
      for await (const e of run.eventLogs) this.events.push({ ...e, execution: name });
    })();
    const ended = run.result.then(
      (output) => this.finish(exec, 'SUCCEEDED', { output: output as Json }),
      (err: unknown) => {
        if (err instanceof ExecutionAbortedError) return this.finish(exec, 'ABORTED', {});
        if (err instanceof ExecutionTimeoutError) return this.finish(exec, 'TIMED_OUT', { error: 'States.Timeout', cause: 'execution timed out' });
        const cause = err instanceof ExecutionError && err.cause instanceof Error ? err.cause : err instanceof Error ? err : new Error(String(err));
        return this.finish(exec, 'FAILED', { error: cause.name, cause: cause.message });
      },
    );
    exec.settled = Promise.all([drained, ended]).then(() => undefined);
    return { executionId: exec.id, alreadyStarted: false };
  }

  async stopExecution(name: string, cause?: string): Promise<void> {
    const exec = this.executions.get(name);
    if (exec?.status !== 'RUNNING') return;
    // The library settles its result at once; what it awaits (a gate's promise, and with it the
    // Task's timeout timer) must be settled by us, or the process lingers until TimeoutSeconds.
    exec.abort?.();
    this.finish(exec, 'ABORTED', { ...(cause !== undefined ? { cause } : {}) });
    await exec.settled;
  }

  async describeExecution(name: string): Promise<ExecutionDescription | undefined> {
    const e = this.executions.get(name);
    if (!e) return undefined;
    return {
      name: e.name,
      status: e.status,
      input: e.input,
      ...(e.output !== undefined ? { output: e.output } : {}),
      ...(e.error !== undefined ? { error: e.error } : {}),
      ...(e.cause !== undefined ? { cause: e.cause } : {}),
      startDate: e.startDate,
      ...(e.stopDate ? { stopDate: e.stopDate } : {}),
    };
  }

  async sendTaskSuccess(token: string, output: Json): Promise<void> {
    const pending = this.takeToken(token);
    pending.resolve(wire(output, 'task output'));
  }

  async sendTaskFailure(token: string, error: string, cause?: string): Promise<void> {
    this.takeToken(token).reject(named(error, cause ?? ''));
  }

  /** Resolves with the execution's description once it has ended and its event log is complete. */
  async waitForExecution(name: string): Promise<ExecutionDescription> {
    const exec = this.executions.get(name);
    if (!exec) throw named('ExecutionDoesNotExist', `no execution ${name}`);
    await exec.settled;
    return (await this.describeExecution(name))!;
  }

  /** Tokens a gate is waiting on, by execution and state (for a local UI, and to prove none linger). */
  pendingTokens(): { token: string; execution: string; state: string }[] {
    return [...this.tokens].map(([token, p]) => ({ token, execution: p.execution, state: p.state }));
  }

  /** Stops every running execution (shutdown of the local runtime, end of a test). */
  async close(): Promise<void> {
    await Promise.all([...this.executions.values()].map((e) => this.stopExecution(e.name, 'runtime shut down')));
  }

  /**
   * The states an execution entered, in order: AWS bills a Standard workflow per state
   * transition, i.e. per state entered (retries count again). Iteration states carry their item.
   */
  statesEntered(execution: string): { state: string; item?: Json }[] {
    return this.events.flatMap((e) =>
      e.execution === execution && e.type === 'StateEntered'
        ? [{ state: e.state.name, ...(e.index !== undefined ? { item: e.state.input as Json } : {}) }]
        : [],
    );
  }

  /**
   * The history events AWS would record for an execution, by AWS's rules: a Task state is
   * Entered + per attempt Scheduled/Started(/Submitted for a token) + Succeeded|Failed|TimedOut +
   * Exited; a Map is Entered/Started ... Succeeded/Exited, plus MapIterationStarted/Succeeded per
   * item; Choice, Wait, Pass and Succeed are Entered/Exited. The local log lacks the scheduling
   * events, so they are derived; iteration events carry their item (the iteration's input).
   */
  historyEvents(execution: string): HistoryEvent[] {
    return this.splitDistributed(execution).parent;
  }

  /**
   * The child executions' histories of the execution's Distributed Maps, one list per child (a
   * batch of items), in the order they started: each has its own 25,000-event limit on AWS.
   */
  childHistories(execution: string): HistoryEvent[][] {
    return [...this.splitDistributed(execution).children.values()];
  }

  /**
   * On AWS a Distributed Map runs each item batch as a child execution with its own history; the
   * parent records the Map Run only. Locally the Map runs inline, so the inline history is split
   * here: events of the states inside a distributed processor go to the child whose input holds
   * them, identified by its item (`taskIds` for the batch, `task` for an iteration inside it).
   */
  private splitDistributed(execution: string): { parent: HistoryEvent[]; children: Map<string, HistoryEvent[]> } {
    const parent: HistoryEvent[] = [];
    const children = new Map<string, HistoryEvent[]>();
    const byTask = new Map<string, string>();
    let run = 0;
    const childOf = (item: Json | undefined): HistoryEvent[] | undefined => {
      const i = (item ?? {}) as { taskIds?: unknown; task?: unknown };
      const key = Array.isArray(i.taskIds) ? `${run}#${JSON.stringify(i.taskIds)}` : typeof i.task === 'string' ? byTask.get(i.task) : undefined;
      return key === undefined ? undefined : children.get(key);
    };
    for (const e of this.inlineHistoryEvents(execution)) {
      const inside = e.state !== undefined && [...this.distributed.values()].some((states) => states.has(e.state!));
      const isMap = e.state !== undefined && this.distributed.has(e.state);
      if (isMap && e.type === 'MapIterationStarted') {
        const ids = ((e.item ?? {}) as { taskIds?: unknown[] }).taskIds ?? [];
        const key = `${run}#${JSON.stringify(ids)}`;
        for (const t of ids) byTask.set(String(t), key);
        children.set(key, [{ type: 'ExecutionStarted', ...(e.item !== undefined ? { item: e.item } : {}) }]);
      } else if (isMap && (e.type === 'MapIterationSucceeded' || e.type === 'MapIterationFailed')) {
        childOf(e.item)?.push({ type: e.type === 'MapIterationSucceeded' ? 'ExecutionSucceeded' : 'ExecutionFailed', ...(e.item !== undefined ? { item: e.item } : {}) });
      } else if (inside) {
        const child = childOf(e.item);
        if (!child) throw new Error(`history event ${e.type} of ${e.state} belongs to no child execution`);
        child.push(e);
      } else if (isMap && e.type === 'MapStateStarted') {
        run += 1;
        parent.push(e, { type: 'MapRunStarted', state: e.state! });
      } else if (isMap && (e.type === 'MapStateSucceeded' || e.type === 'MapStateFailed')) {
        parent.push({ type: e.type === 'MapStateSucceeded' ? 'MapRunSucceeded' : 'MapRunFailed', state: e.state! }, e);
      } else parent.push(e);
    }
    return { parent, children };
  }

  /** The history as if every Map ran inline (one list, iterations included). */
  private inlineHistoryEvents(execution: string): HistoryEvent[] {
    const kinds = new Map(this.resources.map((r) => [r.state, r.kind]));
    const out: HistoryEvent[] = [];
    const failedAttempt = new Set<string>();
    const items = new Map<string, Json>();
    const iterationKey = (e: { parentState: { name: string; input: unknown }; index: number }) => `${e.parentState.name}#${JSON.stringify(e.parentState.input)}#${e.index}`;
    const attempt = (kind: ResourceKind | undefined): string[] =>
      kind === 'lambda' ? ['LambdaFunctionScheduled', 'LambdaFunctionStarted'] : kind === 'waitForTaskToken' ? ['TaskScheduled', 'TaskStarted', 'TaskSubmitted'] : ['TaskScheduled', 'TaskStarted'];
    for (const e of this.events) {
      if (e.execution !== execution) continue;
      const push = (types: string[], state?: string, item?: Json) => {
        for (const type of types) out.push({ type, ...(state ? { state } : {}), ...(item !== undefined ? { item } : {}) });
      };
      switch (e.type) {
        case 'ExecutionStarted':
        case 'ExecutionSucceeded':
        case 'ExecutionFailed':
        case 'ExecutionAborted':
          push([e.type]);
          break;
        case 'ExecutionTimeout':
          push(['ExecutionTimedOut']);
          break;
        case 'MapIterationStarted':
          items.set(iterationKey(e), (e as unknown as { input: Json }).input);
          push([e.type], e.parentState.name, items.get(iterationKey(e)));
          break;
        case 'MapIterationSucceeded':
        case 'MapIterationFailed':
          push([e.type], e.parentState.name, items.get(iterationKey(e)));
          break;
        case 'StateEntered':
        case 'StateExited':
        case 'StateFailed':
        case 'StateRetried': {
          const { name, type } = e.state;
          const item = e.index !== undefined ? (e.state.input as Json) : undefined;
          const key = `${name}#${e.index ?? ''}`;
          const kind = kinds.get(name);
          if (e.type === 'StateEntered') {
            failedAttempt.delete(key);
            if (type === 'Task') push([`TaskStateEntered`, ...attempt(kind)], name, item);
            else if (type === 'Map' || type === 'Parallel') push([`${type}StateEntered`, `${type}StateStarted`], name, item);
            else push([`${type}StateEntered`], name, item);
          } else if (e.type === 'StateRetried') {
            failedAttempt.delete(key);
            push(attempt(kind), name, item);
          } else if (e.type === 'StateFailed') {
            if (type === 'Task') {
              failedAttempt.add(key);
              const timedOut = e.Error === 'States.Timeout';
              push([kind === 'lambda' ? (timedOut ? 'LambdaFunctionTimedOut' : 'LambdaFunctionFailed') : timedOut ? 'TaskTimedOut' : 'TaskFailed'], name, item);
            } else if (type === 'Map' || type === 'Parallel') push([`${type}StateFailed`], name, item);
          } else if (type === 'Task') {
            push([...(failedAttempt.has(key) ? [] : [kind === 'lambda' ? 'LambdaFunctionSucceeded' : 'TaskSucceeded']), 'TaskStateExited'], name, item);
          } else if (type === 'Map' || type === 'Parallel') push([`${type}StateSucceeded`, `${type}StateExited`], name, item);
          else if (type !== 'Fail') push([`${type}StateExited`], name, item);
          break;
        }
        default:
          break;
      }
    }
    return out;
  }

  private localHandlers(exec: Execution): Record<string, (input: unknown) => Promise<Json>> {
    const out: Record<string, (input: unknown) => Promise<Json>> = {};
    for (const r of this.resources) {
      const handler = this.handlers[r.fn]!;
      const call = async (event: unknown): Promise<Json> => {
        let result: unknown;
        try {
          result = await handler(wire(event, `${r.state} input`));
        } catch (err) {
          // Lambda reports errorType = the error's name; Retry and Catch match on it.
          throw err instanceof Error ? err : named('Error', String(err));
        }
        return wire(result, `${r.state} result`);
      };
      if (r.kind === 'lambda') out[r.state] = call;
      // The optimized integration returns the envelope on AWS; the library returns the raw result.
      else if (r.kind === 'lambda:invoke') out[r.state] = async (input) => ({ Payload: await call((input as { Payload?: unknown }).Payload), StatusCode: 200 });
      else out[r.state] = (input) => this.waitForToken(exec, r, (input as { Payload?: unknown }).Payload);
    }
    return out;
  }

  /** A `.waitForTaskToken` state: call the gate with its token, then wait until the token is sent. */
  private async waitForToken(exec: Execution, r: TaskResource, payload: unknown): Promise<Json> {
    const found = [...exec.issued].filter((t) => JSON.stringify(payload ?? null).includes(JSON.stringify(t)));
    if (found.length !== 1) throw named('States.Runtime', `state ${r.state}: a .waitForTaskToken Payload must carry $$.Task.Token exactly once`);
    const token = found[0]!;
    exec.issued.delete(token);
    const { promise, resolve, reject } = deferred<Json>();
    // A stop while the gate Lambda still runs rejects the token before anyone awaits it: not an unhandled rejection.
    promise.catch(() => undefined);
    const deadline = r.timeoutSeconds === undefined ? Number.POSITIVE_INFINITY : Date.now() + r.timeoutSeconds * 1000;
    this.tokens.set(token, { execution: exec.name, state: r.state, deadline, resolve, reject });
    try {
      await this.handlers[r.fn]!(wire(payload, `${r.state} input`));
    } catch (err) {
      // The gate Lambda failed: the state fails with its error, and the token is void.
      this.tokens.delete(token);
      throw err instanceof Error ? err : named('Error', String(err));
    }
    return promise;
  }

  private issueToken(exec: Execution): string {
    const token = `local-${exec.name}-${randomUUID()}`;
    exec.issued.add(token);
    return token;
  }

  private takeToken(token: string): PendingToken {
    const pending = this.tokens.get(token);
    this.tokens.delete(token);
    // Like TaskDoesNotExist / TaskTimedOut / InvalidToken on AWS.
    if (!pending || Date.now() > pending.deadline || this.executions.get(pending.execution)?.status !== 'RUNNING') throw new TaskTokenGoneError();
    return pending;
  }

  private releaseTokens(exec: Execution, reason: Error): void {
    exec.issued.clear();
    for (const [token, p] of this.tokens) {
      if (p.execution !== exec.name) continue;
      this.tokens.delete(token);
      p.reject(reason);
    }
  }

  private finish(exec: Execution, status: ExecutionStatus, detail: { output?: Json; error?: string; cause?: string }): void {
    if (exec.status !== 'RUNNING') return;
    Object.assign(exec, { status, stopDate: new Date() }, detail);
    // A token outliving its execution (a gate that timed out and was caught, say) is void too.
    this.releaseTokens(exec, named('States.Aborted', `execution ${status}`));
  }
}
