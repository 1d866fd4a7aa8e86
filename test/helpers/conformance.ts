/**
 * Runs conformance scenarios as tap subtests. A scenario that needs a feature not built yet
 * fails; it is never skipped.
 */
import t from 'tap';
import { basename } from 'node:path';
import { formatReport, listScenarios, runScenario } from '../../conformance/run.ts';

export function runConformance(select: (name: string) => boolean): void {
  const scenarios = listScenarios().filter((dir) => select(basename(dir)));
  t.test('there are conformance scenarios to run', async (t) => {
    t.ok(scenarios.length > 0, 'conformance/scenarios/ holds scenarios for this file');
  });
  for (const dir of scenarios) {
    t.test(basename(dir), async (t) => {
      const report = await runScenario(dir);
      // The report keeps its line breaks as a TAP comment; an assertion message would flatten it.
      if (!report.ok) t.comment(formatReport(report));
      t.ok(report.ok, `${report.name} passes: ${report.description}`);
    });
  }
}
