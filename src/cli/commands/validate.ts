/**
 * `switchyard validate FILE`: checks a spec offline, printing every problem as
 * `FILE:LINE:COL: PATH: message` (or JSON with `--json`). Exit 0 when valid, 1 when not.
 */
import type { Command } from 'commander';
import { formatProblem, loadSpecFile, type SpecProblem } from '../../spec/index.ts';
import { EXIT } from '../exit-codes.ts';

interface ValidateOptions {
  readonly json?: boolean;
}

/** The `--json` output: what editors and CI scripts read. */
export interface ValidateReport {
  readonly valid: boolean;
  readonly problems: ReadonlyArray<Pick<SpecProblem, 'file' | 'line' | 'col' | 'path' | 'message'>>;
}

/** Adds the `validate` command to `program`. */
export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('Check a spec (serve.yaml) without running it: schema, names, bindings, handler files.')
    .argument('<file>', 'the spec file, YAML or JSON')
    .option('--json', 'print {"valid": ..., "problems": [{file, line, col, path, message}]} to stdout')
    .addHelpText('after', `
Examples:
  $ switchyard validate serve.yaml
  serve.yaml: valid (1 application, 3 deployments)

  $ switchyard validate broken.yaml
  broken.yaml:14:22: applications[0].deployments[1].num_replicas: must be an integer >= 0 or "auto"

  $ switchyard validate serve.yaml --json

Exit status: 0 when the spec is valid, 1 when it is not (every problem is printed, one a line
on stderr), 2 on a usage error.
`)
    .action(async (file: string, options: ValidateOptions) => {
      process.exitCode = await validate(file, options);
    });
}

async function validate(file: string, options: ValidateOptions): Promise<number> {
  const result = await loadSpecFile(file);
  if (options.json) {
    const report: ValidateReport = {
      valid: result.ok,
      problems: result.ok ? [] : result.problems.map(({ file, line, col, path, message }) => ({ file, line, col, path, message })),
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return result.ok ? EXIT.OK : EXIT.FAILED;
  }
  if (!result.ok) {
    process.stderr.write(result.problems.map((p) => `${formatProblem(p)}\n`).join(''));
    return EXIT.FAILED;
  }
  const apps = result.spec.applications.length;
  const deployments = result.spec.applications.reduce((n, app) => n + app.deployments.length, 0);
  process.stdout.write(`${file}: valid (${plural(apps, 'application')}, ${plural(deployments, 'deployment')})\n`);
  return EXIT.OK;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
