/**
 * Every invalid fixture has exactly one defect, and `validate` reports exactly one line for it:
 * `FILE:LINE:COL: PATH: message`, with the position the contract asks for (the value; the key
 * for unknown and duplicate keys; the parent mapping for a missing key).
 */
import { readdirSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { formatProblem, loadSpecFile } from '../../src/spec/index.ts';

const dirAbs = fileURLToPath(new URL('../fixtures/invalid/', import.meta.url)).replace(/\/$/, '');
/** The fixture path as a user would type it from the repo root. */
const given = (name: string): string => relative(process.cwd(), `${dirAbs}/${name}`);

// fixture -> the one line expected after `FILE:`; `${DIR}` is the fixtures directory, absolute.
const EXPECTED: Readonly<Record<string, string>> = {
  '01-unknown-key-did-you-mean.yaml': '6:9: applications[0].deployments[0].num_replica: unknown key "num_replica" (did you mean "num_replicas"?)',
  '02-ray-import-path.yaml': '6:9: applications[0].deployments[0].import_path: unknown key "import_path" from Ray Serve: use handler: ./file.ts#Export instead (a module path relative to this spec)',
  '03-ray-runtime-env.yaml': '3:5: applications[0].runtime_env: unknown key "runtime_env" from Ray Serve: use env: { NAME: value } for environment variables, and install packages with npm',
  '04-ray-actor-options.yaml': '6:9: applications[0].deployments[0].ray_actor_options: unknown key "ray_actor_options" from Ray Serve: not applicable, each replica is a Node.js process',
  '05-duplicate-key.yaml': '7:9: applications[0].deployments[0].max_ongoing_requests: duplicate key "max_ongoing_requests" (first defined at 6:9)',
  '06-duplicate-app-name.yaml': '7:11: applications[1].name: duplicate application name "a" (first used by applications[0] at 2:11)',
  '07-duplicate-route-prefix.yaml': '8:19: applications[1].route_prefix: duplicate route_prefix "/api" (first used by application "a" at 3:19)',
  '08-duplicate-deployment-name.yaml': '7:15: applications[0].deployments[1].name: duplicate deployment name "D" in application "a" (first at 5:15)',
  '09-missing-ingress.yaml': '2:5: applications[0].ingress: missing required key "ingress": application "a" has 2 deployments; name the one that receives HTTP requests',
  '10-ingress-unknown.yaml': '3:14: applications[0].ingress: no deployment "Frnot" in application "a" (did you mean "Front"?)',
  '11-binding-unknown.yaml': '8:17: applications[0].deployments[0].bindings.back: no deployment "Bakc" in application "a" (did you mean "Back"?)',
  '12-binding-app-unknown.yaml': '7:19: applications[0].deployments[0].bindings.search: no application "serch" (did you mean "app:search"?)',
  '13-binding-cycle-within-app.yaml': '13:24: applications[0].deployments[2].bindings.a: binding cycle: A -> B -> C -> A (bindings must not form a cycle)',
  '14-binding-cycle-across-apps.yaml': '14:16: applications[1].deployments[0].bindings.web: binding cycle: front#Web -> search#Index -> front#Web (bindings must not form a cycle)',
  '15-handler-missing.yaml': '5:18: applications[0].deployments[0].handler: handler file not found: ./handlers/missing.ts (looked for ${DIR}/handlers/missing.ts)',
  '16-num-replicas-with-autoscaling.yaml': '8:11: applications[0].deployments[0].autoscaling_config: cannot be combined with an integer num_replicas (3); write num_replicas: auto, or remove num_replicas, to autoscale',
  '17-min-greater-than-max.yaml': '8:25: applications[0].deployments[0].autoscaling_config.min_replicas: min_replicas (8) must be <= max_replicas (4)',
  '18-initial-out-of-range.yaml': '9:29: applications[0].deployments[0].autoscaling_config.initial_replicas: initial_replicas (6) must be between min_replicas (1) and max_replicas (4)',
  '19-route-prefix-no-slash.yaml': `3:19: applications[0].route_prefix: must start with '/' (write "/api")`,
  '20-route-prefix-trailing-slash.yaml': `3:19: applications[0].route_prefix: must not end with '/' (write "/api")`,
  '21-route-prefix-braces.yaml': `3:19: applications[0].route_prefix: must not contain '{' or '}' (path parameters are the handler's business: it receives the rest of the path)`,
  '22-port-wrong-type.yaml': '2:9: http_options.port: must be an integer from 0 to 65535',
  '23-num-replicas-negative.yaml': '6:23: applications[0].deployments[0].num_replicas: must be an integer >= 0 or "auto"',
  '24-num-replicas-bad-string.yaml': '6:23: applications[0].deployments[0].num_replicas: must be an integer >= 0 or "auto"',
  '25-health-check-period-zero.yaml': '6:32: applications[0].deployments[0].health_check_period_s: must be a number > 0',
  '26-max-queued-requests-zero.yaml': '6:30: applications[0].deployments[0].max_queued_requests: must be -1 (unbounded) or an integer >= 1',
  '27-yaml-syntax-error.yaml': '4:15: (root): YAML syntax error: Nested mappings are not allowed in compact mappings',
  '28-empty-file.yaml': '1:1: (root): the spec is empty; it needs at least an "applications:" list',
  '29-missing-applications.yaml': '1:1: applications: missing required key "applications"',
  '30-missing-deployment-name.yaml': '4:9: applications[0].deployments[0].name: missing required key "name"',
  '31-missing-handler.yaml': '4:9: applications[0].deployments[0].handler: missing required key "handler"',
  '32-env-non-string.yaml': '7:20: applications[0].deployments[0].env.WORKERS: must be a string (quote it: "4")',
  '33-root-is-list.yaml': '1:1: (root): the spec must be a mapping with an "applications:" list (found a list)',
  '34-deployments-empty.yaml': '3:18: applications[0].deployments: must be a non-empty list',
  '35-unknown-top-level-key.yaml': '1:1: http_option: unknown key "http_option" (did you mean "http_options"?)',
  '36-port-out-of-range.yaml': '2:9: admin.port: must be an integer from 0 to 65535',
  '37-self-binding.yaml': '7:15: applications[0].deployments[0].bindings.me: binding cycle: Echo -> Echo (bindings must not form a cycle)',
  '38-handler-bad-export.yaml': `5:18: applications[0].deployments[0].handler: must be a file path, optionally followed by '#ExportName' (e.g. ./model.ts#Model)`,
  '39-app-name-invalid.yaml': `2:11: applications[0].name: must be a name of letters, digits, '_', '.' and '-' (not starting with '.' or '-')`,
  '40-key-at-wrong-level.yaml': '6:9: applications[0].deployments[0].route_prefix: unknown key "route_prefix" here; it belongs in an application',
  '41-binding-name-not-identifier.yaml': '8:11: applications[0].deployments[0].bindings["the-model"]: key "the-model" must be a JavaScript identifier (it becomes handles.NAME)',
  '42-max-ongoing-requests-zero.yaml': '6:31: applications[0].deployments[0].max_ongoing_requests: must be an integer >= 1',
  '43-upscale-delay-negative.yaml': '8:28: applications[0].deployments[0].autoscaling_config.upscale_delay_s: must be a number >= 0',
  '44-ray-renamed-autoscaling-key.yaml': '8:11: applications[0].deployments[0].autoscaling_config.target_num_ongoing_requests_per_replica: unknown key "target_num_ongoing_requests_per_replica" from Ray Serve: an old name, write target_ongoing_requests',
  '45-handler-is-directory.yaml': '5:18: applications[0].deployments[0].handler: handler ./handlers is not a file (looked at ${DIR}/handlers)',
  '46-multiple-documents.yaml': `6:1: (root): YAML syntax error: a spec is a single YAML document; remove the second '---' document`,
  '47-applications-not-list.yaml': '2:3: applications: must be a list',
  '48-keep-alive-zero.yaml': '2:25: http_options.keep_alive_timeout_s: must be a number > 0',
  '49-deployments-missing.yaml': '2:5: applications[0].deployments: missing required key "deployments"',
  '50-min-above-default-max.yaml': '7:25: applications[0].deployments[0].autoscaling_config.min_replicas: min_replicas (2) must be <= max_replicas (1, the default)',
  '51-port-quoted.yaml': '2:9: http_options.port: must be an integer from 0 to 65535 (remove the quotes)',
  '52-json-unknown-key.json': '3:80: applications[0].deployments[0].maxOngoingRequests: unknown key "maxOngoingRequests" (did you mean "max_ongoing_requests"?)',
  '53-default-route-prefix-twice.yaml': '6:5: applications[1].route_prefix: duplicate route_prefix "/", the default (first used by application "a" at 2:5)',
  '54-unclosed-quote.yaml': '5:18: (root): YAML syntax error: Missing closing "quote',
};

const fixtures = readdirSync(dirAbs).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();

t.test('every invalid fixture has an expectation, and every expectation a fixture', async (t) => {
  t.same(fixtures, Object.keys(EXPECTED).sort());
  t.ok(fixtures.length >= 35, `at least 35 invalid fixtures (have ${fixtures.length})`);
});

for (const name of fixtures) {
  t.test(`${name} is reported as exactly one FILE:LINE:COL: PATH: message line`, async (t) => {
    const result = await loadSpecFile(given(name));
    t.equal(result.ok, false, 'the spec is refused');
    if (result.ok) return;
    const lines = result.problems.map(formatProblem);
    const expected = `${given(name)}:${(EXPECTED[name] ?? '<no expectation>').replaceAll('${DIR}', dirAbs)}`;
    t.same(lines, [expected]);
    t.equal(result.problems[0]!.file, given(name), 'FILE is the path as given');
  });
}
