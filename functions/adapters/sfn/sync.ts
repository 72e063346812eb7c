// Starts an instance sync's background run: a Step Functions execution named after the operation
// (a repeated start of the same operation is the same execution).
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { SyncRunner } from '../../../domain/schema/sync.js';

export class SfnSyncRunner implements SyncRunner {
  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async start(operationId: string): Promise<void> {
    try {
      await this.client.send(new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name: `sync-${operationId}`, input: JSON.stringify({ operation: operationId }) }));
    } catch (e) {
      if (!(e instanceof ExecutionAlreadyExists)) throw e;
    }
  }
}

export const sfnSyncRunner = (stateMachineArn: string): SyncRunner => new SfnSyncRunner(new SFNClient({}), stateMachineArn);
