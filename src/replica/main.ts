/**
 * Entry point of a replica process, spawned by the gateway with an IPC channel:
 * `node dist/replica/main.js`, then an `init` message (see protocol.ts).
 *
 * The gateway sends `init` right after spawning, while this process may still be loading its
 * modules; Node drops IPC messages that arrive before a 'message' listener exists. So this file
 * has no static imports: it starts buffering at once, then loads the runtime.
 */
import type { ToReplica } from './protocol.ts';

if (typeof process.send !== 'function') {
  process.stderr.write('switchyard replica: no IPC channel; replicas are started by the gateway (switchyard run)\n');
  process.exit(1);
}

const early: ToReplica[] = [];
const buffer = (message: unknown): void => {
  early.push(message as ToReplica);
};
process.on('message', buffer);
// The gateway may vanish while the runtime loads: no orphaned replicas, ever.
const exitEarly = (): void => process.exit(0);
process.on('disconnect', exitEarly);

const { ReplicaRuntime } = await import('./runtime.ts');
const runtime = new ReplicaRuntime();
process.off('disconnect', exitEarly);
process.off('message', buffer);
process.on('message', (message) => runtime.onMessage(message as ToReplica));
for (const message of early) runtime.onMessage(message);
