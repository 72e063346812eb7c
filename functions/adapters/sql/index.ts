// One SqlDriver over every engine: each call goes to the driver of its target's engine. Each
// driver module loads on first use, so a cold start that connects to nothing (list, get, create)
// or only to PostgreSQL never evaluates mysql2 and its character sets (most of the bundle).
import type { Engine } from '../../../domain/inventory/instances.js';
import type { ConnectionTarget, SqlDriver } from '../../../domain/inventory/ports.js';
import type { DriverOptions } from './common.js';
import type { SchemaReader } from '../../../domain/schema/ports.js';

type Driver = SqlDriver & Required<SchemaReader>;

export function sqlDrivers(options: DriverOptions = {}): Driver {
  const loaders: Record<Engine, () => Promise<Driver>> = {
    POSTGRES: async () => new (await import('./postgres.js')).PostgresDriver(options),
    MYSQL: async () => new (await import('./mysql.js')).MysqlDriver(options),
  };
  const loaded = new Map<Engine, Promise<Driver>>();
  const driver = (engine: Engine): Promise<Driver> => {
    if (!loaded.has(engine)) loaded.set(engine, loaders[engine]());
    return loaded.get(engine)!;
  };
  return {
    testConnection: async (t: ConnectionTarget) => (await driver(t.engine)).testConnection(t),
    listDatabases: async (t: ConnectionTarget) => (await driver(t.engine)).listDatabases(t),
    listTables: async (t: ConnectionTarget, database: string) => (await driver(t.engine)).listTables(t, database),
    readSchema: async (t: ConnectionTarget, database: string) => (await driver(t.engine)).readSchema(t, database),
    readSchemaFingerprinted: async (t: ConnectionTarget, database: string, known?: string) => (await driver(t.engine)).readSchemaFingerprinted(t, database, known),
  };
}
