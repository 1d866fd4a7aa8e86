/**
 * The offline conformance scenarios (conformance/scenarios/0NN-*: validate, diff, usage), each
 * as its own subtest, run against the built CLI exactly as `node conformance/run.ts` runs them.
 * The scenarios that start a gateway (1NN) run in conformance-runtime.test.ts, so each file stays
 * well inside tap's per-file timeout.
 */
import { runConformance } from './helpers/conformance.ts';

runConformance((name) => name.startsWith('0'));
