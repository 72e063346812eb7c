// What a DBA reads when a connection fails: one sentence per cause, never the password.
import { describe, expect, it } from 'vitest';
import type { ConnectionTarget } from '../../domain/inventory/ports.js';
import { describeFailure, scrub } from '../../functions/adapters/sql/common.js';

const target: ConnectionTarget = { engine: 'POSTGRES', host: 'db.internal', port: 5432, username: 'sluice', password: 'pass' };
const error = (code: string, message = `${code} from the socket`) => Object.assign(new Error(message), { code });

describe('describeFailure', () => {
  it.each([
    [error('ECONNREFUSED'), 'connection refused at db.internal:5432 (is the server running and listening on that port?)'],
    [error('ENOTFOUND'), 'host not found: db.internal (check the host name and DNS)'],
    [error('EAI_AGAIN'), 'host not found: db.internal (check the host name and DNS)'],
    [error('EHOSTUNREACH'), 'host unreachable: db.internal:5432 (check routing, VPC and security groups)'],
    [error('ECONNRESET'), 'connection reset by db.internal:5432 (is it a PostgreSQL server? does it require TLS?)'],
    [new Error('Connection terminated due to connection timeout'), 'timed out after 5 s connecting to db.internal:5432 (is a firewall or security group dropping the connection?)'],
    [error('PROTOCOL_SEQUENCE_TIMEOUT', 'Query inactivity timeout'), 'timed out after 5 s waiting for db.internal:5432 to answer'],
  ])('%s', (e, message) => {
    // Act & Assess
    expect(describeFailure(e, target, 5_000, 5_000)).toBe(message);
  });

  it('scrubs the password from what the server said, but not from its own words', () => {
    // Act
    const quoted = describeFailure(new Error('role "pass" does not exist'), target, 5_000, 5_000);
    const own = describeFailure(error('ECONNREFUSED'), { ...target, host: 'pass.example' }, 5_000, 5_000);

    // Assess
    expect(quoted).toBe('role "***" does not exist');
    expect(own).toBe('connection refused at ***.example:5432 (is the server running and listening on that port?)');
  });
});

describe('scrub', () => {
  it('removes the password as typed and URL-encoded', () => {
    // Act & Assess
    expect(scrub('a p@ss/w0rd b p%40ss%2Fw0rd c', 'p@ss/w0rd')).toBe('a *** b *** c');
    expect(scrub('nothing to hide', undefined)).toBe('nothing to hide');
  });
});

describe('sign-in failures with a password that is a common word', () => {
  it('stay readable', () => {
    // Prepare
    const mysql = Object.assign(new Error("Access denied for user 'sluice'@'10.0.0.7' (using password: YES)"), { code: 'ER_ACCESS_DENIED_ERROR' });

    // Act & Assess
    expect(describeFailure(error('28P01', 'password authentication failed for user "sluice"'), target, 5_000, 5_000)).toBe('password authentication failed for user "sluice"');
    expect(describeFailure(mysql, { ...target, engine: 'MYSQL' }, 5_000, 5_000)).toBe("Access denied for user 'sluice'@'10.0.0.7' (using password: YES)");
  });
});
