// The runner of background syncs that the local runtime installs (the local sync state machine)
// before the first request; deployed, none is installed and wiring-schema.ts starts executions
// of the deployed state machine. Kept apart from the wiring so that installing it loads no client.
import type { SyncRunner } from '../../domain/schema/sync.js';

let installed: SyncRunner | undefined;

export const installedSyncRunner = (): SyncRunner | undefined => installed;
export const setSyncRunner = (next: SyncRunner | undefined): void => {
  installed = next;
};
