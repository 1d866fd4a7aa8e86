/**
 * The pure part of `switchyard apply`: progress lines and the done / failed / pending decision,
 * as tables of status snapshots.
 */
import t from 'tap';
import { applyOutcome, progressLines } from '../../src/cli/apply-progress.ts';
import type { PlanDiff } from '../../src/compile/types.ts';
import type { StatusJson } from '../../src/controller/status.ts';

type R = [state: string, version: string];

function status(apps: Record<string, { status?: string; message?: string; deployments: Record<string, { status: string; target: number; replicas: R[]; message?: string }> }>): StatusJson {
  const applications: Record<string, unknown> = {};
  for (const [name, a] of Object.entries(apps)) {
    const deployments: Record<string, unknown> = {};
    for (const [dname, d] of Object.entries(a.deployments)) {
      deployments[dname] = {
        status: d.status, target_replicas: d.target, message: d.message ?? '',
        replicas: d.replicas.map(([state, version], i) => ({ replica_id: `${name}#${dname}#${i}`, state, pid: 100 + i, version, ongoing_requests: 0, age_s: 1 })),
      };
    }
    applications[name] = { status: a.status ?? 'RUNNING', route_prefix: '/', message: a.message ?? '', deployments };
  }
  return { applications } as unknown as StatusJson;
}

const restart: PlanDiff = { applications: [
  { name: 'text', action: 'update', deployments: [
    { name: 'Model', action: 'restart', reasons: ['args'] },
    { name: 'Pre', action: 'unchanged', reasons: [] },
  ] },
  { name: 'old', action: 'delete', deployments: [{ name: 'Gone', action: 'delete', reasons: [] }] },
] };

const before = status({
  text: { deployments: { Model: { status: 'HEALTHY', target: 2, replicas: [['RUNNING', 'v1'], ['RUNNING', 'v1']] }, Pre: { status: 'HEALTHY', target: 1, replicas: [['RUNNING', 'p']] } } },
  old: { deployments: { Gone: { status: 'HEALTHY', target: 1, replicas: [['RUNNING', 'g']] } } },
});

t.test('a rolling restart: new replicas counted by version, old ones draining, deleted apps followed', async (t) => {
  const mid = status({
    text: { status: 'DEPLOYING', deployments: { Model: { status: 'UPDATING', target: 2, replicas: [['STOPPING', 'v1'], ['RUNNING', 'v1'], ['RUNNING', 'v2'], ['STARTING', 'v2']] }, Pre: { status: 'HEALTHY', target: 1, replicas: [['RUNNING', 'p']] } } },
    old: { status: 'DELETING', deployments: { Gone: { status: 'HEALTHY', target: 0, replicas: [['STOPPING', 'g']] } } },
  });
  t.same([...progressLines(restart, before, mid)], [
    ['text/Model', 'text/Model: restarting (UPDATING), 1/2 new replicas ready, 1 draining'],
    ['old', 'old: deleting, 1 replica stopping'],
  ]);
  t.same(applyOutcome(restart, mid), { state: 'pending' });

  const draining = status({
    text: { deployments: { Model: { status: 'HEALTHY', target: 2, replicas: [['STOPPING', 'v1'], ['RUNNING', 'v2'], ['RUNNING', 'v2']] }, Pre: { status: 'HEALTHY', target: 1, replicas: [['RUNNING', 'p']] } } },
  });
  t.equal(progressLines(restart, before, draining).get('text/Model'), 'text/Model: HEALTHY, 2/2 new replicas ready, 1 draining');
  t.same(applyOutcome(restart, draining), { state: 'pending' }, 'not done while a replaced replica drains');

  const done = status({
    text: { deployments: { Model: { status: 'HEALTHY', target: 2, replicas: [['RUNNING', 'v2'], ['RUNNING', 'v2']] }, Pre: { status: 'HEALTHY', target: 1, replicas: [['RUNNING', 'p']] } } },
  });
  t.same([...progressLines(restart, before, done)], [['text/Model', 'text/Model: HEALTHY, 2/2 new replicas ready'], ['old', 'old: deleted']]);
  t.same(applyOutcome(restart, done), { state: 'done' });
});

t.test('DEPLOY_FAILED fails the apply with the app message; an unchanged but failed app does too', async (t) => {
  const failed = status({
    text: { status: 'DEPLOY_FAILED', message: 'Model: constructor threw', deployments: { Model: { status: 'DEPLOY_FAILED', target: 2, message: 'constructor threw', replicas: [['RUNNING', 'v1'], ['RUNNING', 'v1']] }, Pre: { status: 'HEALTHY', target: 1, replicas: [['RUNNING', 'p']] } } },
  });
  t.same(applyOutcome(restart, failed), { state: 'failed', message: 'text: Model: constructor threw' });
  t.equal(progressLines(restart, before, failed).get('text/Model'), 'text/Model: DEPLOY_FAILED, 0/2 new replicas ready: constructor threw');
});

t.test('scale and reconfigure count every running replica; a missing app is still pending', async (t) => {
  const plan: PlanDiff = { applications: [
    { name: 'a', action: 'update', deployments: [{ name: 'S', action: 'scale', reasons: ['num_replicas 1 -> 3'] }, { name: 'C', action: 'reconfigure', reasons: ['user_config'] }] },
    { name: 'b', action: 'create', deployments: [{ name: 'N', action: 'create', reasons: [] }] },
  ] };
  const now = status({
    a: { status: 'DEPLOYING', deployments: { S: { status: 'UPSCALING', target: 3, replicas: [['RUNNING', 'v'], ['STARTING', 'v'], ['STARTING', 'v']] }, C: { status: 'UPDATING', target: 1, replicas: [['RUNNING', 'c']] } } },
  });
  t.same([...progressLines(plan, now, now)], [
    ['a/S', 'a/S: scaling (UPSCALING), 1/3 replicas ready'],
    ['a/C', 'a/C: reconfiguring (UPDATING), 1/1 replicas ready'],
    ['b/N', 'b/N: starting, waiting for the controller'],
  ]);
  t.same(applyOutcome(plan, now), { state: 'pending' });
  const upscalingButRunning = status({
    a: { deployments: { S: { status: 'UPSCALING', target: 3, replicas: [['RUNNING', 'v']] }, C: { status: 'HEALTHY', target: 1, replicas: [['RUNNING', 'c']] } } },
    b: { deployments: { N: { status: 'HEALTHY', target: 1, replicas: [['RUNNING', 'n']] } } },
  });
  t.same(applyOutcome(plan, upscalingButRunning), { state: 'pending' }, 'an app RUNNING with a deployment still scaling is not done');
});

t.test('an empty plan is done at once', async (t) => {
  t.same(applyOutcome({ applications: [] }, { applications: {} }), { state: 'done' });
  t.same([...progressLines({ applications: [] }, { applications: {} }, { applications: {} })], []);
});
