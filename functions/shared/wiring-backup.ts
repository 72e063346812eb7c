// What the prior-backup cleanup adds to the shared wiring: the backup index and the SQL dropper.
import { DynamoBackupIndex } from '../adapters/dynamo/backups.js';
import { sqlBackupDropper } from '../adapters/sql/backup-cleanup.js';
import { store } from './wiring.js';
import { secrets } from './wiring-sql.js';

export const backupIndex = new DynamoBackupIndex(store);
export const backupDropper = sqlBackupDropper(secrets);
