// Test file order for the two workers. Vitest runs files it has no timings for (a clean clone, as
// in CI) largest first, so small files that run for minutes (the fuzz suites, the 200-database
// files) started last and left one worker busy alone at the end. These start first, longest first
// (durations of CI runs, 2026-12); every other file follows in vitest's own order.
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const SLOW_FIRST = [
  'test/e2e/batch-200.test.ts',
  'test/e2e/access-matrix.test.ts',
  'test/reliability/fuzz-a.test.ts',
  'test/e2e/readme.test.ts',
  'test/e2e/start.test.ts',
  'test/reliability/fuzz-b.test.ts',
  'test/e2e/npm-start-signals.test.ts',
  'test/e2e/samples.test.ts',
  'test/integration/batch-scale.test.ts',
  'test/integration/sync-200.test.ts',
  'test/e2e/schema.test.ts',
];

export default class SlowFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const i = SLOW_FIRST.findIndex((p) => f.moduleId.endsWith(`/${p}`));
      return i < 0 ? SLOW_FIRST.length : i;
    };
    // Array sort is stable: the rest keep the base order.
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}
