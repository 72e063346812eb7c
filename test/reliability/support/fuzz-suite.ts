// The fuzz test, defined once: fuzz-a.test.ts and fuzz-b.test.ts each run half of the CI's
// 10,000 requests (two seeds, two files, so the two workers share the work).
// Invariants: no 5xx; every error in the API.md shape; a rejected request changes nothing
// (the items it wrote to, the secrets folder, and every 100th request the whole table).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../../domain/api/routes.js';
import { startApi, type Api } from '../../support/http.js';
import { anyRequest, fuzzFixtures, runFuzz } from './fuzz.js';

export function defineFuzzSuite(seed: number, runs: number): void {
  let api: Api;
  beforeAll(async () => {
    api = await startApi();
    await fuzzFixtures(api);
  }, 120_000);
  afterAll(async () => api?.server.close());

  describe('fuzzing every route', () => {
    it(`${runs} generated requests (seed ${seed}): no 5xx, errors in the API shape, rejected requests write nothing`, async () => {
      const requests = fc.sample(anyRequest, { seed, numRuns: runs });

      const report = await runFuzz(api, requests);

      process.stderr.write(`fuzz: ${JSON.stringify({ seed, ...report, violations: report.violations.length })}\n`);
      expect(report.violations.slice(0, 20)).toEqual([]);
      // The run reached every route, and real work as well as rejections.
      expect(report.requests).toBe(runs);
      expect(report.routesHit).toBe(ROUTES.length);
      expect(Object.keys(report.byStatus)).toEqual(expect.arrayContaining(['200', '201', '400', '404', '405', '409']));
      // The checks had something to check: rejected requests that sent writes, and accepted
      // ones whose changes the same journal saw.
      expect(report.rejectedWithWrites).toBeGreaterThan(0);
      expect(report.acceptedWithChanges).toBeGreaterThan(0);
    }, Math.max(600_000, runs * 200));
  });
}
