// The SQL drivers on their own: a server that never answers times out on schedule and the socket
// is closed; and no message a driver produces carries the password, whatever the server echoes.
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlConnectionError, type ConnectionTarget } from '../../domain/inventory/ports.js';
import { MysqlDriver } from '../../functions/adapters/sql/mysql.js';
import { PostgresDriver } from '../../functions/adapters/sql/postgres.js';
import { mysqlServer } from '../support/mysql.js';
import { postgresWithPasswords } from '../support/postgres.js';
import { mysqlUser, pgRole } from '../support/inventory.js';

/** Accepts TCP connections and never says a word. */
let silent: Server;
const open = new Set<Socket>();
beforeAll(async () => {
  silent = createServer((socket) => {
    open.add(socket);
    // Read (and drop) what the client sends, so that its close is seen.
    socket.resume();
    socket.on('close', () => open.delete(socket));
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
});
afterAll(() => new Promise<void>((r) => {
  for (const s of open) s.destroy();
  silent.close(() => r());
}));

const port = () => (silent.address() as { port: number }).port;
async function closedWithin(ms: number): Promise<number> {
  const end = Date.now() + ms;
  while (open.size > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return open.size;
}

describe.each([
  ['POSTGRES', () => new PostgresDriver({ connectTimeoutMs: 300 })],
  ['MYSQL', () => new MysqlDriver({ connectTimeoutMs: 300 })],
] as const)('%s driver', (engine, driver) => {
  it('gives up on a server that never answers after its connect timeout, and closes the socket', async () => {
    // Prepare
    const target: ConnectionTarget = { engine, host: '127.0.0.1', port: port(), username: 'sluice', password: 'pw' };
    const started = Date.now();

    // Act
    const result = await driver().testConnection(target);

    // Assess
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(result).toEqual({ ok: false, error: expect.stringMatching(new RegExp(`^timed out after 0\\.3 s connecting to 127\\.0\\.0\\.1:${port()}`)) });
    expect(await closedWithin(2_000)).toBe(0);
  });

  it('throws SqlConnectionError, not a driver error, when listing fails', async () => {
    // Act
    const e = await driver().listDatabases({ engine, host: '127.0.0.1', port: 1, username: 'sluice' }).catch((err: unknown) => err);

    // Assess
    expect(e).toBeInstanceOf(SqlConnectionError);
    expect((e as Error).message).toMatch(/^connection refused at 127\.0\.0\.1:1 /);
  });
});

describe('password scrubbing', () => {
  const SECRET = `Sc0rch3d-Earth%/${Date.now()}`;

  it('PostgreSQL: a server message that quotes the password shows *** instead', async () => {
    // Prepare: the server names the database it could not find; here that name is the password.
    const role = await pgRole(postgresWithPasswords(), SECRET);
    const target: ConnectionTarget = { engine: 'POSTGRES', ...role.source };

    // Act
    const e = (await new PostgresDriver().listTables(target, SECRET).catch((err: unknown) => err)) as Error;
    await role.drop();

    // Assess
    expect(e).toBeInstanceOf(SqlConnectionError);
    expect(e.message).toBe('database "***" does not exist');
  });

  it.skipIf(mysqlServer() === null)('MariaDB: the same', async () => {
    // Prepare: the server names the database the user may not use; here that name is the password.
    const user = await mysqlUser(mysqlServer()!, SECRET);
    const target: ConnectionTarget = { engine: 'MYSQL', ...user.source, database: SECRET };

    // Act
    const result = await new MysqlDriver().testConnection(target);
    await user.drop();

    // Assess
    expect(result).toEqual({ ok: false, error: `Access denied for user '${user.name}'@'%' to database '***'` });
  });
});
