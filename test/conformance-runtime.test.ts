/**
 * The conformance scenarios that start a gateway (conformance/scenarios/1NN-*), each as its own
 * subtest, run against the built CLI exactly as `node conformance/run.ts` runs them.
 */
import { runConformance } from './helpers/conformance.ts';

runConformance((name) => !name.startsWith('0'));
