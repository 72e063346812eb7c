// The second half of the CI run's 10,000 fuzzed requests (see fuzz-a.test.ts), with its own seed.
import { CI_SEEDS } from './support/fuzz.js';
import { defineFuzzSuite } from './support/fuzz-suite.js';

defineFuzzSuite(CI_SEEDS[1], 5_000);
