import { resolve } from 'node:path';

/** The local runtime's settings: environment variables, with the README's defaults. */
export function localConfig(env: NodeJS.ProcessEnv = process.env) {
  return {
    port: Number(env.PORT ?? 3000),
    dataDir: resolve(env.SLUICE_DATA_DIR ?? '.sluice'),
    tableName: env.TABLE_NAME ?? 'sluice',
    adminEmail: 'admin@example.com',
  };
}
