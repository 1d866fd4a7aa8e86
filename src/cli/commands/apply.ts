/**
 * `switchyard apply FILE` (alias `deploy`): sends a spec to the running gateway
 * (`PUT /api/serve/applications/`), prints the Plan it carries out, then follows the rollout
 * until every Application is RUNNING or one failed (CONTRACT section 5).
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { PlanDiff } from '../../compile/types.ts';
import type { StatusJson } from '../../controller/status.ts';
import { AdminClient, addConnectionOptions, reportRefused, type ConnectionOptions } from '../admin-client.ts';
import { applyOutcome, progressLines } from '../apply-progress.ts';
import { EXIT } from '../exit-codes.ts';
import { formatPlanDiff, loadOrReport, specBodyForGateway } from './diff.ts';

interface ApplyOptions extends ConnectionOptions {
  wait: boolean;
  timeout: number;
  json?: boolean;
}

/** Status is polled this often while waiting; progress lines are printed only when they change. */
const POLL_MS = 200;

/** commander parser for a `--timeout <seconds>`. */
export function parseSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number of seconds > 0.');
  return n;
}

/** Adds the `apply` command (and its alias `deploy`) to `program`. */
export function registerApply(program: Command): void {
  const command = program
    .command('apply')
    .alias('deploy')
    .description('Apply a spec to the running gateway: only what changed is touched, with zero-downtime rolling restarts.')
    .argument('<file>', 'the spec (serve.yaml); relative handler paths resolve against its directory')
    .option('--no-wait', 'print the plan and return at once, without following the rollout')
    .option('--timeout <seconds>', 'give up waiting after this long (exit 1)', parseSeconds, 300)
    .option('--json', 'print the Plan JSON instead of the human plan (progress still goes to stderr)');
  addConnectionOptions(command)
    .addHelpText('after', `
Prints the plan (what is created, restarted, reconfigured, scaled or deleted), then one line
per change of progress until every application is RUNNING, or one is DEPLOY_FAILED.

Exit status: 0 when applied and RUNNING; 1 for an invalid spec (its problems are printed like
\`validate\`), a refused change (http_options, admin), a failed deployment or a timeout; 2 on a
usage error; 3 when the gateway cannot be reached or refuses the token.

Examples:
  $ switchyard apply serve.yaml
  $ switchyard deploy serve.yaml --no-wait
  $ switchyard apply serve.yaml --address http://10.0.0.5:8265 --token s3cret`)
    .action(async (file: string, options: ApplyOptions) => {
      process.exitCode = await apply(file, options);
    });
}

async function apply(file: string, options: ApplyOptions): Promise<number> {
  // Checked here first so problems point into FILE (and its handler files), not into `<request>`.
  if ((await loadOrReport(file)) === undefined) return EXIT.FAILED;
  const client = new AdminClient(options);
  const before = options.wait ? await client.status() : { applications: {} };
  const result = await client.submit('apply', await specBodyForGateway(file));
  if (!result.ok) {
    reportRefused(result, file);
    return EXIT.FAILED;
  }
  process.stdout.write(options.json ? `${JSON.stringify(result.plan, null, 2)}\n` : formatPlanDiff(result.plan));
  if (!options.wait) return EXIT.OK;
  return follow(client, result.plan, before, options);
}

/** Polls status until the rollout ends; progress goes to stdout (stderr with --json, which keeps stdout parseable). */
async function follow(client: AdminClient, plan: PlanDiff, before: StatusJson, options: ApplyOptions): Promise<number> {
  const out = options.json ? process.stderr : process.stdout;
  const printed = new Map<string, string>();
  const deadline = Date.now() + options.timeout * 1000;
  let headed = false;
  for (;;) {
    const now = await client.status();
    for (const [key, line] of progressLines(plan, before, now)) {
      if (printed.get(key) === line) continue;
      if (!headed && !options.json) out.write('\n');
      headed = true;
      printed.set(key, line);
      out.write(`${line}\n`);
    }
    const outcome = applyOutcome(plan, now);
    if (outcome.state === 'done') {
      const names = plan.applications.filter((a) => a.action !== 'delete').map((a) => a.name);
      out.write(names.length > 0 ? `Applied: ${names.join(', ')} RUNNING.\n` : 'Applied: no applications left.\n');
      return EXIT.OK;
    }
    if (outcome.state === 'failed') {
      process.stderr.write(`switchyard: the apply failed: ${outcome.message}\n`);
      return EXIT.FAILED;
    }
    if (Date.now() >= deadline) {
      process.stderr.write(`switchyard: not every application is RUNNING after ${options.timeout}s; the gateway keeps trying (see \`switchyard status\`).\n`);
      return EXIT.FAILED;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
