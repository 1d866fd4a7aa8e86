import t from 'tap';
import { startOrder, type BindingNode } from '../../src/compile/binding-graph.ts';

function node(id: string, ...targets: string[]): BindingNode {
  return { id, bindings: Object.fromEntries(targets.map((target, i) => [`h${i}`, target])) };
}

t.test('no bindings keeps spec order', async (t) => {
  t.same(startOrder([node('a#A'), node('a#B'), node('b#C')]), ['a#A', 'a#B', 'b#C']);
});

t.test('dependencies start first, the rest in spec order', async (t) => {
  // Pipeline (listed first) binds Pre and Model; Pre binds Model.
  const order = startOrder([node('t#Pipeline', 't#Pre', 't#Model'), node('t#Pre', 't#Model'), node('t#Model'), node('t#Other')]);
  t.same(order, ['t#Model', 't#Pre', 't#Pipeline', 't#Other']);
});

t.test('bindings across applications (app:NAME resolved to the ingress)', async (t) => {
  const order = startOrder([node('front#Ingress', 'back#Ingress'), node('back#Ingress', 'back#Worker'), node('back#Worker')]);
  t.same(order, ['back#Worker', 'back#Ingress', 'front#Ingress']);
});

t.test('among ready deployments the one listed first starts first', async (t) => {
  // A waits on D; B and C are ready from the start. After D starts, A (index 0) goes next.
  const order = startOrder([node('x#A', 'x#D'), node('x#B'), node('x#C'), node('x#D')]);
  t.same(order, ['x#B', 'x#C', 'x#D', 'x#A']);
});

t.test('two handles on the same target count once', async (t) => {
  t.same(startOrder([node('x#A', 'x#B', 'x#B'), node('x#B')]), ['x#B', 'x#A']);
});

t.test('a cycle is a defect and throws, naming the deployments', async (t) => {
  t.throws(() => startOrder([node('x#A', 'x#B'), node('x#B', 'x#A'), node('x#C')]), /cycle among x#A, x#B/);
});

t.test('an unknown target is a defect and throws', async (t) => {
  t.throws(() => startOrder([node('x#A', 'x#Nope')]), /unknown deployment x#Nope/);
});

t.test('empty graph', async (t) => {
  t.same(startOrder([]), []);
});
