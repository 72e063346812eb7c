// The deployed hand-off from the webhook to the GitOps worker: an asynchronous Lambda invoke
// with ids only, and a failure the receiver sees (so it forgets the delivery and answers 500).
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { LambdaVcsDispatcher } from '../../functions/adapters/vcs/lambda-dispatch.js';

const lambda = mockClient(LambdaClient);
afterEach(() => lambda.reset());

describe('LambdaVcsDispatcher', () => {
  it('invokes the worker asynchronously (Event) with the delivery ids and nothing else', async () => {
    // Prepare
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });

    // Act
    await new LambdaVcsDispatcher(new LambdaClient({}), 'sluice-vcs-worker').dispatch({ project: 'shop', delivery: 'd-1', receiveTime: '2026-11-26T00:00:00.000Z' });

    // Assess
    const calls = lambda.commandCalls(InvokeCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input).toMatchObject({ FunctionName: 'sluice-vcs-worker', InvocationType: 'Event' });
    expect(JSON.parse(Buffer.from(input.Payload as Uint8Array).toString('utf8'))).toEqual({ project: 'shop', delivery: 'd-1', receiveTime: '2026-11-26T00:00:00.000Z' });
  });

  it('fails when Lambda did not queue the event', async () => {
    // Prepare
    lambda.on(InvokeCommand).resolves({ StatusCode: 200 });

    // Act & Assess
    await expect(new LambdaVcsDispatcher(new LambdaClient({}), 'w').dispatch({ project: 'shop', delivery: 'd', receiveTime: 't' })).rejects.toThrow(/not queued/);
  });
});
