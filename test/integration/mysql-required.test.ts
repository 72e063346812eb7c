// The test run's MariaDB rule (test/support/mysql.ts): in CI (CI=true) or with SLUICE_TEST_MYSQL
// set, a MariaDB that does not answer or refuses the sign-in fails the run; only a developer's bare
// machine skips the MariaDB suites, saying so in one line that names them.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { freePort } from '../../infra/local/dynamo-local.js';
import { MYSQL_SUITES, findMysql, mysqlRequiredBy, mysqlServer } from '../support/mysql.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** A loopback address where nothing listens. */
const deadAddress = async (): Promise<string> => `127.0.0.1:${await freePort()}`;

function stderrLines(): { lines: () => string[] } {
  const written: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  return { lines: () => written.join('').split('\n').filter((l) => l.trim() !== '') };
}

afterEach(() => vi.restoreAllMocks());

describe('when MariaDB is required', () => {
  it.each([
    ['CI=true', { CI: 'true' }],
    ['CI=1', { CI: '1' }],
  ])('%s: nothing answering fails with a message naming the reason, the address and the suites', async (_label, ci) => {
    // Prepare
    const dead = await deadAddress();

    // Act
    const found = findMysql({ ...ci }, `root@${dead}`);

    // Assess
    await expect(found).rejects.toThrow(`MariaDB is required (CI=${ci.CI}) but nothing answers on ${dead}`);
    await expect(found).rejects.toThrow(MYSQL_SUITES[0]!);
  });

  it('SLUICE_TEST_MYSQL set: an unreachable server fails, without the password in the message', async () => {
    // Prepare
    const spec = `someone:hunter2-secret@${await deadAddress()}`;

    // Act
    const found = findMysql({ SLUICE_TEST_MYSQL: spec });

    // Assess
    await expect(found).rejects.toThrow(/MariaDB is required \(SLUICE_TEST_MYSQL=someone:\*\*\*@127\.0\.0\.1:\d+ is set\)/);
    await expect(found).rejects.not.toThrow(/hunter2/);
  });

  it('a server that answers but refuses the sign-in fails too (a ping would have passed)', async ({ skip }) => {
    // Prepare
    const server = mysqlServer();
    if (!server) return skip('no MariaDB on this machine to refuse a sign-in');
    const spec = `no_such_user_sluice:wrong-password@${server.host}:${server.port}`;

    // Act
    const found = findMysql({ CI: 'true', SLUICE_TEST_MYSQL: spec });

    // Assess
    await expect(found).rejects.toThrow(`cannot sign in as no_such_user_sluice and run SELECT 1 at ${server.host}:${server.port}`);
    await expect(found).rejects.toThrow(/Access denied/);
  });

  it('is required by CI=true and by SLUICE_TEST_MYSQL, not by CI=false or an empty CI', () => {
    // Act & Assess
    expect(mysqlRequiredBy({ CI: 'true' })).toBe('CI=true');
    expect(mysqlRequiredBy({ SLUICE_TEST_MYSQL: '127.0.0.1:3307' })).toBe('SLUICE_TEST_MYSQL=127.0.0.1:3307 is set');
    expect(mysqlRequiredBy({ CI: 'false' })).toBeUndefined();
    expect(mysqlRequiredBy({ CI: '' })).toBeUndefined();
    expect(mysqlRequiredBy({})).toBeUndefined();
  });
});

describe("on a developer's bare machine", () => {
  it('skips, in one loud line naming every MariaDB suite', async () => {
    // Prepare
    const dead = await deadAddress();
    const stderr = stderrLines();

    // Act
    const found = await findMysql({}, `root@${dead}`);

    // Assess
    expect(found).toBeNull();
    const lines = stderr.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^!!! MariaDB suites SKIPPED: nothing answers on /);
    expect(lines[0]).toContain(dead);
    for (const suite of MYSQL_SUITES) expect(lines[0]).toContain(suite);
  });

  it('uses the server that answers', async ({ skip }) => {
    // Prepare
    const server = mysqlServer();
    if (!server) return skip('no MariaDB on this machine');

    // Act
    const found = await findMysql({ CI: 'true' }, `${server.username}@${server.host}:${server.port}`);

    // Assess
    expect(found).toEqual({ host: server.host, port: server.port, username: server.username, ...(server.password ? { password: server.password } : {}) });
  });
});

describe('the list of MariaDB suites', () => {
  it('names exactly the test files that use the MariaDB server', () => {
    // Prepare
    const files = readdirSync(join(ROOT, 'test'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.test.ts'))
      .map((f) => relative(ROOT, join(ROOT, 'test', f)).split('\\').join('/'));

    // Act
    const users = files.filter((f) => f !== 'test/integration/mysql-required.test.ts' && readFileSync(join(ROOT, f), 'utf8').includes('mysqlServer('));

    // Assess
    expect(users.sort()).toEqual([...MYSQL_SUITES].sort());
  });
});
