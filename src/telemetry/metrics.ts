/**
 * Prometheus metrics through OpenTelemetry (`GET /metrics` on the admin port): requests, errors
 * and latency per deployment from the Proxy, replicas per state from the Controller.
 * Exposition is the exporter's, not ours.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Attributes } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { StatusJson } from '../controller/status.ts';
import type { RequestOutcome } from '../proxy/proxy.ts';

export class Metrics {
  readonly #exporter: PrometheusExporter;
  readonly #provider: MeterProvider;
  /**
   * Request and error counts are kept in plain Maps and read at scrape time (observable
   * counters): a per-request `Counter.add` hashes its attributes every time, which showed in
   * the proxy's CPU profile. Keys are `app \0 deployment \0 status|error`.
   */
  readonly #requestCounts = new Map<string, number>();
  readonly #errorCounts = new Map<string, number>();
  readonly #latency;

  constructor(status: () => StatusJson) {
    this.#exporter = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true, withoutTargetInfo: true });
    this.#provider = new MeterProvider({ readers: [this.#exporter] });
    const meter = this.#provider.getMeter('switchyard');
    meter.createObservableCounter('switchyard_requests', { description: 'HTTP requests answered by the proxy, by application, deployment and status code.' })
      .addCallback((result) => observeCounts(result, this.#requestCounts, 'status'));
    meter.createObservableCounter('switchyard_request_errors', { description: 'Requests answered with a Switchyard error code (no_route, timeout, backpressure, ...).' })
      .addCallback((result) => observeCounts(result, this.#errorCounts, 'error'));
    this.#latency = meter.createHistogram('switchyard_request_duration_seconds', {
      description: 'Time from request to the end of the response, at the proxy.',
      unit: 's',
      advice: { explicitBucketBoundaries: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] },
    });
    meter.createObservableGauge('switchyard_replicas', { description: 'Replicas by application, deployment and state.' })
      .addCallback((result) => {
        for (const [app, a] of Object.entries(status().applications)) {
          for (const [deployment, d] of Object.entries(a.deployments)) {
            const counts: Record<string, number> = { STARTING: 0, RUNNING: 0, STOPPING: 0, RECOVERING: 0 };
            for (const r of d.replicas) counts[r.state] = (counts[r.state] ?? 0) + 1;
            for (const [state, n] of Object.entries(counts)) result.observe(n, { app, deployment, state });
          }
        }
      });
    meter.createObservableGauge('switchyard_target_replicas', { description: 'Target replicas by application and deployment.' })
      .addCallback((result) => {
        for (const [app, a] of Object.entries(status().applications)) {
          for (const [deployment, d] of Object.entries(a.deployments)) result.observe(d.target_replicas, { app, deployment });
        }
      });
  }

  record(o: RequestOutcome): void {
    const app = o.app ?? '';
    // The label is the deployment's name; `app` tells apps apart.
    const deployment = o.deployment?.slice(app.length + 1) ?? '';
    const base = `${app}\0${deployment}\0`;
    increment(this.#requestCounts, base + o.status);
    if (o.error) increment(this.#errorCounts, base + o.error);
    this.#latency.record(o.durationMs / 1000, { app, deployment });
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    this.#exporter.getMetricsRequestHandler(req, res);
  }

  async close(): Promise<void> {
    await this.#provider.shutdown().catch(() => {});
  }
}

function increment(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

function observeCounts(result: { observe(value: number, attributes: Attributes): void }, counts: ReadonlyMap<string, number>, label: string): void {
  for (const [key, value] of counts) {
    const [app, deployment, last] = key.split('\0');
    result.observe(value, { app: app!, deployment: deployment!, [label]: last! });
  }
}
