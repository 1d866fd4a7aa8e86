/**
 * An in-memory ReplicaLauncher: "processes" are records the test drives by hand (ready, fail,
 * crash, answer health checks), so the Controller's policies run without spawning anything.
 */
import type { LaunchOptions, ReplicaEvents, ReplicaLauncher, ReplicaProcess } from '../../src/replica/launcher.ts';
import type { FromReplica, ToReplica } from '../../src/replica/protocol.ts';

export class FakeReplica implements ReplicaProcess {
  readonly pid: number;
  readonly sent: ToReplica[] = [];
  exited = false;
  killedWith: string | undefined;

  readonly options: LaunchOptions;
  readonly events: ReplicaEvents;

  constructor(options: LaunchOptions, events: ReplicaEvents, pid: number) {
    this.options = options;
    this.events = events;
    this.pid = pid;
  }

  get id(): string {
    return this.options.init.replica_id;
  }

  send(message: ToReplica): void {
    this.sent.push(message);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.killedWith = signal;
    this.exit(`signal ${signal}`);
  }

  emit(message: FromReplica): void {
    this.events.onMessage(message);
  }

  ready(): void {
    this.emit({ t: 'ready' });
  }

  exit(reason = 'exit code 1'): void {
    if (this.exited) return;
    this.exited = true;
    this.events.onExit(reason, null, null);
  }

  /** The last message of a kind it was sent. */
  last<T extends ToReplica['t']>(t: T): Extract<ToReplica, { t: T }> | undefined {
    return this.sent.filter((m) => m.t === t).at(-1) as Extract<ToReplica, { t: T }> | undefined;
  }
}

export class FakeLauncher implements ReplicaLauncher {
  readonly launched: FakeReplica[] = [];
  #pid = 1000;

  launch(options: LaunchOptions, events: ReplicaEvents): ReplicaProcess {
    const r = new FakeReplica(options, events, ++this.#pid);
    this.launched.push(r);
    return r;
  }

  socketPathFor(replicaId: string): string {
    return `/fake/${replicaId}.sock`;
  }

  async close(): Promise<void> {}

  /** Launched and not exited. */
  get alive(): FakeReplica[] {
    return this.launched.filter((r) => !r.exited);
  }
}
