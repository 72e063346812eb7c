// The instance sync state machine as synthesized: SyncStep loops until the step says done, a
// crash ends the operation through SyncFailed, and :sync's function may only start it.
import { describe, expect, it } from 'vitest';
import { SYNC_STATES as S } from '../../infra/lib/sync.js';
import { aslFromTemplate, localFunctionArn } from '../../infra/local/stepfunctions.js';
import { synth } from './synth.js';

const s = synth();
const machineId = s.id(s.stack.sync.stateMachine);
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- ASL JSON
const states = (aslFromTemplate(s.template.toJSON() as never, machineId) as any).States as Record<string, any>;

describe('sync wiring in SluiceStack', () => {
  it('loops SyncStep until it answers done, and ends a crashed run through SyncFailed', () => {
    const fn = localFunctionArn(s.id(s.stack.syncStep.fn));
    expect([states[S.step].Resource, states[S.step].Parameters]).toEqual([fn, { 'operation.$': '$.operation' }]);
    expect(states[S.step].Next).toBe(S.isDone);
    expect(states[S.isDone].Choices).toEqual([{ Variable: '$.done', BooleanEquals: true, Next: S.done }]);
    expect(states[S.isDone].Default).toBe(S.step);
    expect(states[S.step].Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: S.failed }]);
    expect([states[S.failed].Resource, states[S.failed].Parameters]).toEqual([fn, { 'operation.$': '$.operation', 'error.$': '$.error' }]);
    expect(states[S.failed].Next).toBe(S.aborted);
    expect(states[S.aborted].Type).toBe('Fail');
  });

  it('the step function has 15 minutes, the table and the secrets prefix; :sync knows the state machine', () => {
    const fn = s.resources[s.id(s.stack.syncStep.fn)]!;
    expect(fn.Properties.Timeout).toBe(900);
    expect(fn.Properties.Environment.Variables.TABLE_NAME).toEqual({ Ref: s.id(s.stack.table.table) });
    const instances = s.resources[s.id(s.stack.functions.instances.fn)]!;
    expect(instances.Properties.Environment.Variables.SYNC_STATE_MACHINE_ARN).toEqual({ Ref: machineId });
  });
});
