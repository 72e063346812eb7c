// In-memory schema ports: recorded schemas, operations, and a sync runner that the test drives.
import type { DatabaseSchema } from '../../domain/schema/model.js';
import type { SchemaHead, SchemaRepo } from '../../domain/schema/ports.js';
import { syncStep, type Operation, type OperationRepo, type SyncDeps, type SyncRunner } from '../../domain/schema/sync.js';

export class FakeSchemas implements SchemaRepo {
  readonly heads = new Map<string, SchemaHead>();
  readonly snapshots = new Map<string, DatabaseSchema>();
  head = async (instance: string, database: string) => structuredClone(this.heads.get(`${instance}/${database}`));
  snapshot = async (instance: string, database: string, checksum: string) => structuredClone(this.snapshots.get(`${instance}/${database}/${checksum}`));
  async record(instance: string, database: string, model: DatabaseSchema | undefined, head: SchemaHead): Promise<void> {
    if (model) this.snapshots.set(`${instance}/${database}/${head.checksum}`, structuredClone(model));
    this.heads.set(`${instance}/${database}`, structuredClone(head));
  }
  storeSnapshot = async (instance: string, database: string, model: DatabaseSchema, checksum: string) =>
    void this.snapshots.set(`${instance}/${database}/${checksum}`, structuredClone(model));
}

export class FakeOperations implements OperationRepo {
  readonly rows = new Map<string, Operation>();
  create = async (op: Operation) => void this.rows.set(op.id, structuredClone(op));
  get = async (id: string) => structuredClone(this.rows.get(id));
  put = async (op: Operation) => void this.rows.set(op.id, structuredClone(op));
}

/** Records the operations started; `drain` runs their steps to the end, as the state machine would. */
export class ManualSyncRunner implements SyncRunner {
  readonly started: string[] = [];
  steps = 0;
  start = async (id: string) => void this.started.push(id);
  async drain(deps: SyncDeps, budgetMs = 0): Promise<void> {
    for (const id of this.started.splice(0)) {
      for (;;) {
        this.steps++;
        if ((await syncStep(deps, id, budgetMs)).done) break;
      }
    }
  }
}
