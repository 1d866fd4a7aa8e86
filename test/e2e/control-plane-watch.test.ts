/**
 * `switchyard run` watching its spec file (CONTRACT section 5): a saved change is applied, an
 * invalid save is reported with its lines and changes nothing, and `--reload` restarts the
 * deployments whose handler files change, and only those.
 */
import { writeFileSync } from 'node:fs';
import t from 'tap';
import { sleep, startGateway, tempDir } from '../helpers/gateway.ts';
import { get, pidsOf, replicasOf, settled } from './control-plane-lib.ts';

const HELLO = `export default class Hello {
  constructor({ args }) { this.greeting = args.greeting; }
  fetch() { return { text: this.greeting, pid: process.pid }; }
}
`;

const spec = (greeting: string, extra = ''): string => `applications:
  - name: hello
    route_prefix: /
    deployments:
      - name: Hello
        handler: ./hello.mjs
        args: { greeting: ${greeting} }
${extra}`;

t.test('a saved spec change is applied; an invalid save is reported and the running state kept', async (t) => {
  const dir = tempDir({ 'hello.mjs': HELLO, 'serve.yaml': spec('hello') });
  const gw = await startGateway(`${dir}/serve.yaml`, { args: [] });
  t.teardown(() => gw.stop());
  const before = pidsOf(await gw.status(), 'hello', 'Hello');
  t.equal((await get(gw, '/')).json.text, 'hello');

  writeFileSync(`${dir}/serve.yaml`, spec('hi'));
  const s = await gw.waitFor((s) => settled(s, 'hello') && pidsOf(s, 'hello', 'Hello').every((p) => !before.includes(p)), 20_000, 'the saved change rolled out');
  t.equal((await get(gw, '/')).json.text, 'hi', 'the new args are served');
  t.match(gw.log(), /serve\.yaml saved: applying/);
  t.match(gw.log(), /applied a new spec from .*serve\.yaml: hello \(update\)/);
  const running = replicasOf(s, 'hello', 'Hello');

  // Line 8 col 23 is the value of num_replicas; the save must change nothing.
  writeFileSync(`${dir}/serve.yaml`, spec('bonjour', '        num_replicas: -1\n'));
  const end = Date.now() + 10_000;
  while (!/was not applied/.test(gw.log()) && Date.now() < end) await sleep(50);
  t.match(gw.log(), /serve\.yaml was not applied: The spec is invalid \(1 problem\); nothing changed\./);
  t.match(gw.log(), /serve\.yaml:8:23: applications\[0\]\.deployments\[0\]\.num_replicas: must be an integer >= 0 or "auto"/);
  await sleep(300);
  t.same(replicasOf(await gw.status(), 'hello', 'Hello'), running, 'same replicas, same pids');
  t.equal((await get(gw, '/')).json.text, 'hi', 'still serving the last good spec');

  // Fixing the file applies it.
  writeFileSync(`${dir}/serve.yaml`, spec('bonjour'));
  await gw.waitFor((s) => settled(s, 'hello') && replicasOf(s, 'hello', 'Hello').join() !== running.join(), 20_000, 'the fixed save rolled out');
  t.equal((await get(gw, '/')).json.text, 'bonjour');
});

t.test('--reload restarts the deployment whose handler file changed, and no other', async (t) => {
  const dir = tempDir({
    'hello.mjs': HELLO,
    'other.mjs': `export default { fetch() { return { text: 'other', pid: process.pid }; } };\n`,
    'serve.yaml': spec('hello', `  - name: other
    route_prefix: /other
    deployments:
      - name: Other
        handler: ./other.mjs
`),
  });
  const gw = await startGateway(`${dir}/serve.yaml`, { args: ['--reload'] });
  t.teardown(() => gw.stop());
  const s0 = await gw.status();
  const hello = pidsOf(s0, 'hello', 'Hello');
  const other = replicasOf(s0, 'other', 'Other');

  writeFileSync(`${dir}/hello.mjs`, HELLO.replace('this.greeting,', "this.greeting + ' (edited)',"));
  await gw.waitFor((s) => settled(s, 'hello') && pidsOf(s, 'hello', 'Hello').every((p) => !hello.includes(p)), 20_000, 'the handler change rolled out');
  t.equal((await get(gw, '/')).json.text, 'hello (edited)', 'the edited code serves');
  t.match(gw.log(), /hello\.mjs changed: applying/);
  t.match(gw.log(), /applied a new spec from .*: hello \(update\)/);
  t.same(replicasOf(await gw.status(), 'other', 'Other'), other, 'the other deployment was not touched');
  t.equal((await get(gw, '/other')).json.text, 'other');
});
