/**
 * `switchyard status [--json] [--watch]`: the running gateway's Applications, Deployments and
 * Replicas (`GET /api/serve/applications/`). `--json` prints the status JSON exactly as the
 * admin API answers it; `--watch` redraws the table every second until Ctrl-C.
 */
import type { Command } from 'commander';
import type { StatusJson } from '../../controller/status.ts';
import { SwitchyardError } from '../../errors.ts';
import { AdminClient, addConnectionOptions, type ConnectionOptions } from '../admin-client.ts';
import { EXIT } from '../exit-codes.ts';

interface StatusOptions extends ConnectionOptions {
  json?: boolean;
  watch?: boolean;
}

const WATCH_INTERVAL_MS = 1_000;
/** Cursor home + clear screen: redraw in place, as `watch(1)` does. */
const CLEAR = '\x1b[H\x1b[2J';

/** Adds the `status` command to `program`. */
export function registerStatus(program: Command): void {
  const command = program
    .command('status')
    .description('Show applications, deployments and replicas of the running gateway.')
    .option('--json', 'print the status JSON of the admin API')
    .option('--watch', 'refresh every second until Ctrl-C');
  addConnectionOptions(command)
    .addHelpText('after', `
Exit status: 0 on success; 3 when the gateway cannot be reached or refuses the token.

Examples:
  $ switchyard status
  $ switchyard status --watch
  $ switchyard status --json | jq '.applications[].status'`)
    .action(async (options: StatusOptions) => {
      process.exitCode = await status(options);
    });
}

async function status(options: StatusOptions): Promise<number> {
  const client = new AdminClient(options);
  const fetchFrame = async (): Promise<string> => {
    const { status, text } = await client.statusWithText();
    return options.json ? (text.endsWith('\n') ? text : `${text}\n`) : formatStatus(status);
  };
  // The first call decides reachability (exit 3); a watch that loses the gateway later keeps trying.
  let frame = await fetchFrame();
  if (!options.watch) {
    process.stdout.write(frame);
    return EXIT.OK;
  }
  const tty = process.stdout.isTTY === true;
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const onSigint = (): void => stop();
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigint);
  try {
    for (;;) {
      const header = `Every ${WATCH_INTERVAL_MS / 1000}s: switchyard status at ${client.address} (Ctrl-C to stop)    ${new Date().toLocaleTimeString()}\n\n`;
      // Without a terminal there is no "in place": frames follow one another.
      process.stdout.write(tty ? CLEAR + header + frame : `${header}${frame}\n`);
      const tick = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), WATCH_INTERVAL_MS);
        void stopped.then(() => { clearTimeout(timer); resolve(true); });
      });
      if (await tick) return EXIT.OK;
      try {
        frame = await fetchFrame();
      } catch (err) {
        if (!(err instanceof SwitchyardError)) throw err;
        frame = `${err.message}\nretrying...\n`;
      }
    }
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}

/**
 * The human form of the status JSON: a line per Application and per Deployment (status,
 * replicas running of target, message), then a table of the Deployment's replicas.
 */
export function formatStatus(s: StatusJson): string {
  const apps = Object.entries(s.applications);
  if (apps.length === 0) return 'No applications.\n';
  const lines: string[] = [];
  for (const [name, app] of apps) {
    const where = app.route_prefix === null ? 'not exposed over HTTP' : `at ${app.route_prefix}`;
    lines.push(`${name}: ${app.status} ${where}${app.message ? ` - ${app.message}` : ''}`);
    for (const [dname, d] of Object.entries(app.deployments)) {
      const running = d.replicas.filter((r) => r.state === 'RUNNING').length;
      lines.push(`  ${dname}: ${d.status}, ${running}/${d.target_replicas} running${d.message ? ` - ${d.message}` : ''}`);
      if (d.replicas.length === 0) continue;
      const rows = d.replicas.map((r) => [
        r.replica_id, r.state, r.pid === null ? '-' : String(r.pid), formatAge(r.age_s), String(r.ongoing_requests), r.version.slice(0, 12),
      ]);
      lines.push(...table([['REPLICA', 'STATE', 'PID', 'AGE', 'IN-FLIGHT', 'VERSION'], ...rows]).map((l) => `    ${l}`));
    }
    lines.push('');
  }
  return `${lines.join('\n')}`;
}

/** Columns padded to their widest cell; the last column is not padded. */
function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
}

/** 42s, 3m05s, 2h07m: the two leading units, like kubectl's AGE. */
export function formatAge(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '-';
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d${String(Math.floor(s / 3600) % 24).padStart(2, '0')}h`;
}
