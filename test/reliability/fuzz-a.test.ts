// Property-based fuzzing of the whole API on the local runtime (support/fuzz-suite.ts): the first
// half of the CI run's 10,000 requests (fuzz-b.test.ts sends the other half, with another seed).
// `npm run fuzz:long` runs this file with SLUICE_FUZZ_SEED=random and 100,000 requests; the seed
// is printed, and SLUICE_FUZZ_SEED=<seed> replays a run.
import { CI_SEEDS } from './support/fuzz.js';
import { defineFuzzSuite } from './support/fuzz-suite.js';

const seed = process.env.SLUICE_FUZZ_SEED === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.SLUICE_FUZZ_SEED ?? CI_SEEDS[0]);
defineFuzzSuite(seed, Number(process.env.SLUICE_FUZZ_RUNS ?? 5_000));
