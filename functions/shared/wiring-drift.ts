// SCHEMA_DRIFT for the schema context (a sync, or the runner, found a database drifted), which
// cannot import the notify context: its DriftNotifier port, put on the event sink with Sluice as
// the actor. Apart from wiring-events.ts, so the handlers that never find drift do not load it.
import { SYSTEM_BOT_ID, databaseName } from '../../domain/common/names.js';
import { emitEvents } from '../../domain/notify/events.js';
import type { DriftNotifier } from '../../domain/schema/ports.js';
import { emitLog, lateSink } from './wiring-events.js';

export const driftNotifier: DriftNotifier = {
  drifted: (e) =>
    emitEvents(lateSink, [{ type: 'SCHEMA_DRIFT', project: e.project, database: databaseName(e.instance, e.database), actor: `users/${SYSTEM_BOT_ID}`, time: e.time, comment: e.summary }], emitLog),
};
