/**
 * The examples a newcomer runs, served by the real CLI exactly as the README says (on free ports).
 */
import { join } from 'node:path';
import t from 'tap';
import { ROOT, startGateway } from '../helpers/gateway.ts';

const post = (url: string, body: string) => fetch(url, { method: 'POST', body, signal: AbortSignal.timeout(10_000) });

t.test('examples/hello answers a greeting', async (t) => {
  const gw = await startGateway(join(ROOT, 'examples/hello/serve.yaml'));
  t.teardown(() => gw.stop());
  const res = await fetch(`${gw.http}/?name=Ada`, { signal: AbortSignal.timeout(10_000) });
  t.equal(res.status, 200);
  t.equal(await res.text(), 'Hello, Ada!\n');
});

t.test('examples/pipeline: four deployments composed through handles over HTTP', async (t) => {
  const gw = await startGateway(join(ROOT, 'examples/pipeline/serve.yaml'));
  t.teardown(() => gw.stop());
  const good = await post(`${gw.http}/text`, 'What a GREAT day!');
  t.equal(good.status, 200);
  t.same(await good.json(), { text: 'what a great day!', label: 'positive', score: 0.25, summary: 'positive :)' },
    'preprocessor lower-cased, model scored, postprocessor rendered');
  const bad = await post(`${gw.http}/text`, 'terrible awful');
  t.match(await bad.json(), { label: 'negative' });
  const empty = await post(`${gw.http}/text`, '  ');
  t.equal(empty.status, 400, 'the ingress answers its own errors');
  const status = await gw.status();
  t.same(Object.keys(status.applications.text.deployments).sort(), ['Model', 'Pipeline', 'Postprocessor', 'Preprocessor']);
});
