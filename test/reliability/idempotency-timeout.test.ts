// A create that outlives its function's deadline: middy answers 500 at the deadline while the
// operation may still finish (locally it goes on; on Lambda a dangling promise resumes in the next
// invocation). Its Idempotency-Key must stay claimed (IN_PROGRESS, until the claim's lease ends)
// rather than be released, or the client's retry with the same key makes the resource twice;
// once the operation finishes, the key records its real answer for the retry to replay.
import { describe, expect, it } from 'vitest';
import type { Context } from 'aws-lambda';
import { AbortedError } from '../../domain/common/errors.js';
import type { Deps } from '../../domain/inventory/ports.js';
import type { IdempotencyRecord, IdempotencyRepo } from '../../domain/common/ports.js';
import { httpHandler, type HttpEvent, type Operation } from '../../functions/shared/http.js';
import { buildEvent } from '../../infra/local/events.js';
import { lambdaContext } from '../support/api.js';

const ADMIN = { id: 2, email: 'admin@example.com', title: 'Admin', role: 'workspaceAdmin', userType: 'USER', state: 'ACTIVE' };

/** An idempotency store in memory, as the DynamoDB one behaves. */
function memoryRepo(): IdempotencyRepo & { released: string[]; extended: number } {
  const records = new Map<string, IdempotencyRecord>();
  const released: string[] = [];
  const repo: IdempotencyRepo & { released: string[]; extended: number } = {
    released,
    extended: 0,
    claim: async (scope, requestHash, expiresAt) => {
      const existing = records.get(scope) as (IdempotencyRecord & { expiresAt?: number }) | undefined;
      // An expired claim counts as absent, as in DynamoDB (the claim's condition on its ttl).
      if (existing && !(existing.state === 'IN_PROGRESS' && existing.expiresAt! < Date.now())) return existing;
      records.set(scope, { requestHash, state: 'IN_PROGRESS', expiresAt: expiresAt.getTime() } as unknown as IdempotencyRecord);
      return undefined;
    },
    extend: async (scope, requestHash, expiresAt) => {
      const existing = records.get(scope) as (IdempotencyRecord & { expiresAt?: number }) | undefined;
      if (existing?.state === 'IN_PROGRESS' && existing.requestHash === requestHash) {
        existing.expiresAt = expiresAt.getTime();
        repo.extended += 1;
      }
    },
    complete: async (scope, requestHash, response) => void records.set(scope, { requestHash, state: 'COMPLETED', response } as unknown as IdempotencyRecord),
    release: async (scope) => {
      released.push(scope);
      records.delete(scope);
    },
  };
  return repo;
}

function handlerWith(op: Operation, repo: IdempotencyRepo, idempotencyLeaseMs?: number) {
  const deps = { users: { getByEmail: async () => ADMIN } } as unknown as Deps;
  const ops = new Proxy({}, { get: () => op }) as never;
  return httpHandler('environments', { deps, idempotency: repo, ...(idempotencyLeaseMs ? { idempotencyLeaseMs } : {}) }, ops) as unknown as (e: HttpEvent, c: Context) => Promise<{ statusCode: number; body?: string }>;
}

const create = (): HttpEvent =>
  buildEvent({ method: 'POST', path: '/v1/environments', headers: { 'content-type': 'application/json', 'idempotency-key': 'k1' }, body: '{"id":"slow","title":"Slow"}', claims: { email: ADMIN.email } }).event;
/** A Lambda context with 100 ms left. */
const shortContext = (): Context => ({ ...lambdaContext(), getRemainingTimeInMillis: () => 100 });

describe('Idempotency-Key and the function deadline', () => {
  it('a create cut off by the deadline is a 500, its key stays claimed, and a retry with the key is a 409, not a second create', async () => {
    const repo = memoryRepo();
    let started = 0;
    const slow: Operation = async () => {
      started += 1;
      await new Promise((r) => setTimeout(r, 400));
      return { body: { name: 'environments/slow' } };
    };
    const handler = handlerWith(slow, repo);

    const first = await handler(create(), shortContext());
    const retry = await handler(create(), { ...lambdaContext() });

    expect(first.statusCode).toBe(500);
    expect(repo.released).toEqual([]);
    expect(retry.statusCode).toBe(409);
    expect(JSON.parse(retry.body!).error.message).toMatch(/still in progress/);
    expect(started).toBe(1);

    // Once the operation has finished, the key holds its real answer: a retry replays it.
    await new Promise((r) => setTimeout(r, 600));
    const later = await handler(create(), { ...lambdaContext() });
    expect(later.statusCode).toBe(201);
    expect(JSON.parse(later.body!)).toEqual({ name: 'environments/slow' });
    expect(started).toBe(1);
  });

  it('a create cut off by the deadline that then fails releases its key, so a retry runs', async () => {
    const repo = memoryRepo();
    let started = 0;
    const handler = handlerWith(async () => {
      started += 1;
      await new Promise((r) => setTimeout(r, 300));
      if (started === 1) throw new AbortedError('lost a race');
      return { body: { name: 'environments/slow' } };
    }, repo);

    expect((await handler(create(), shortContext())).statusCode).toBe(500);
    await new Promise((r) => setTimeout(r, 500));
    const retry = await handler(create(), { ...lambdaContext() });

    expect(repo.released).toHaveLength(1);
    expect(retry.statusCode).toBe(201);
    expect(started).toBe(2);
  });

  it('a create that fails is released, so a corrected retry goes through (the control)', async () => {
    const repo = memoryRepo();
    const handler = handlerWith(async () => {
      throw new AbortedError('lost a race');
    }, repo);

    const res = await handler(create(), { ...lambdaContext() });

    expect(res.statusCode).toBe(409);
    expect(repo.released).toHaveLength(1);
  });

  it('an operation that outlives the lease keeps its claim: a retry after the lease would have ended is a 409, not a second run', async () => {
    // Prepare: a 150 ms lease, renewed every 50 ms, and an operation of 600 ms.
    const repo = memoryRepo();
    let started = 0;
    const handler = handlerWith(async () => {
      started += 1;
      await new Promise((r) => setTimeout(r, 600));
      return { body: { name: 'environments/slow' } };
    }, repo, 150);

    // Act
    const first = handler(create(), { ...lambdaContext() });
    await new Promise((r) => setTimeout(r, 400));
    const retry = await handler(create(), { ...lambdaContext() });
    const answered = await first;
    const after = await handler(create(), { ...lambdaContext() });

    // Assess
    expect(retry.statusCode).toBe(409);
    expect(JSON.parse(retry.body!).error.message).toMatch(/still in progress/);
    expect(repo.extended).toBeGreaterThanOrEqual(2);
    expect([answered.statusCode, after.statusCode]).toEqual([201, 201]);
    expect(JSON.parse(after.body!)).toEqual({ name: 'environments/slow' });
    expect(started).toBe(1);
  });
});
