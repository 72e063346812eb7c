// The local instance sync: the sync state machine SluiceStack deploys (infra/lib/sync.ts), its
// ASL taken from the synthesized template and run by LocalStepFunctions, its one Lambda mapped to
// functions/workflow/sync-instance.ts. `npm start` and the end-to-end tests install it as the
// sync runner, so a local :sync runs the deployed definition.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SyncRunner } from '../../domain/schema/sync.js';
import { HANDLER_ENTRIES } from '../bundling.js';
import { PROJECT_ROOT } from '../lib/defaults.js';
import { synthesizePipeline, type SynthesizedPipeline } from './pipeline.js';
import { aslFromTemplate, LocalStepFunctions } from './stepfunctions.js';

type SyncModule = typeof import('../../functions/workflow/sync-instance.js');

export interface LocalSync extends SyncRunner {
  readonly stepFunctions: LocalStepFunctions;
  close(): Promise<void>;
}

export function localSync(synthesized: SynthesizedPipeline = synthesizePipeline()): LocalSync {
  let loaded: Promise<SyncModule> | undefined;
  const load = () => (loaded ??= import(pathToFileURL(join(PROJECT_ROOT, HANDLER_ENTRIES.syncInstance)).href) as Promise<SyncModule>);
  const stepFunctions = new LocalStepFunctions({
    definition: aslFromTemplate(synthesized.template, synthesized.sync.stateMachineId),
    handlers: { [synthesized.sync.functionId]: async (event: unknown) => (await load()).handler(event as never) },
    stateMachineName: 'SluiceSync',
  });
  return {
    stepFunctions,
    start: async (operationId: string) => void (await stepFunctions.startExecution(`sync-${operationId}`, { operation: operationId })),
    close: () => stepFunctions.close(),
  };
}
