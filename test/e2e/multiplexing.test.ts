import t from 'tap';
import { sleep, startGateway, tempDir } from '../helpers/gateway.ts';

const MODELS = `
import { getRequestContext, multiplexed } from 'switchyard';
export default class Models {
  loads = 0;
  getModel = multiplexed(async (id) => { this.loads++; return { id }; }, { maxModelsPerReplica: 2 });
  async fetch() {
    const model = await this.getModel();
    const ctx = getRequestContext();
    return { model: model.id, replica: ctx.replicaId, contextModel: ctx.multiplexedModelId, loads: this.loads };
  }
}
`;

t.test('requests for a model go to the replica that already holds it', async (t) => {
  const dir = tempDir({
    'models.mjs': MODELS,
    'serve.yaml': `
applications:
  - name: m
    deployments:
      - { name: Models, handler: ./models.mjs, num_replicas: 2 }
`,
  });
  const gw = await startGateway(`${dir}/serve.yaml`);
  t.teardown(() => gw.stop());
  const ask = async (model: string) => {
    const res = await fetch(`${gw.http}/`, { headers: { serve_multiplexed_model_id: model }, signal: AbortSignal.timeout(10_000) });
    t.equal(res.status, 200);
    return (await res.json()) as { model: string; replica: string; contextModel: string; loads: number };
  };
  const first = await ask('m1');
  t.equal(first.model, 'm1');
  t.equal(first.contextModel, 'm1', 'the header reaches getRequestContext().multiplexedModelId');
  // The replica reports its loaded models with its load reports (every 250 ms); the Controller
  // publishes them in the next Snapshot.
  await sleep(1000);
  const replicas = new Set<string>();
  let loads = 0;
  for (let i = 0; i < 12; i++) {
    const r = await ask('m1');
    replicas.add(r.replica);
    loads = Math.max(loads, r.loads);
  }
  t.same([...replicas], [first.replica], 'every m1 request went to the replica holding m1');
  t.equal(loads, 1, 'm1 was loaded once');
});
