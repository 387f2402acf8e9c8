/**
 * Wiring of the Kubernetes deployment in deploy/kubernetes/: labels and selectors, ports, Service
 * names, Secret references, the environment the server reads, drain and grace period, autoscaling,
 * network policies and the pod's security context. No cluster needed: the YAML is read as data.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadConfig, SETTINGS } from '../../server/config.ts';

// Kubernetes objects are read as plain data; each check states the shape it expects.
type Obj = any;
type Labels = Record<string, string>;

const DIR = join(import.meta.dirname, '..', '..', 'deploy', 'kubernetes');
const CLUSTER_SETTINGS = [
  'VITRINE_REDIS_URL',
  'VITRINE_CLUSTER_SECRET',
  'VITRINE_CLUSTER_PORT',
  'VITRINE_CLUSTER_ADVERTISE',
  'VITRINE_NODE_ID',
  'VITRINE_CLUSTER_HEARTBEAT_MS',
  'VITRINE_DRAIN_SECONDS',
];
/** Variables that carry key material: never a literal value in a manifest. */
const SECRET_ENV = ['VITRINE_JWT_SECRET', 'VITRINE_AUDIT_KEY', 'VITRINE_RECORDING_KEY', 'VITRINE_CLUSTER_SECRET'];

function loadFile(file: string): Obj[] {
  const text = readFileSync(join(DIR, file), 'utf8');
  const out: Obj[] = [];
  for (const doc of parseAllDocuments(text)) {
    expect(
      doc.errors.map((e) => e.message),
      `${file}: YAML errors`,
    ).to.deep.equal([]);
    const value = doc.toJS();
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

const kustomization = loadFile('kustomization.yaml')[0];
const resourceFiles: string[] = kustomization?.resources ?? [];
const byFile = new Map<string, Obj[]>(resourceFiles.map((f) => [f, loadFile(f)]));
const applied: Obj[] = [...byFile.values()].flat();
const secretExample: Obj[] = loadFile('secret.example.yaml');
const ingressExample: Obj[] = loadFile('ingress.example.yaml');

function only(kind: string, name?: string, objects: Obj[] = applied): Obj {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
  expect(found, `exactly one ${kind}${name ? ` named ${name}` : ''}`).to.have.length(1);
  return found[0];
}
const all = (kind: string, objects: Obj[] = applied): Obj[] => objects.filter((o) => o.kind === kind);

/** A matchLabels-style selector: non-empty, and every pair present in the labels. */
function selects(selector: Labels | undefined, labels: Labels | undefined): boolean {
  const pairs = Object.entries(selector ?? {});
  return pairs.length > 0 && pairs.every(([k, v]) => labels?.[k] === v);
}
function labelSelector(sel: Obj): Labels {
  expect(sel?.matchExpressions, 'matchExpressions are not evaluated by this test; use matchLabels').to.equal(undefined);
  return sel?.matchLabels ?? {};
}

const sts = only('StatefulSet', 'vitrine');
const podLabels: Labels = sts.spec.template.metadata.labels;
const podSpec: Obj = sts.spec.template.spec;
const container: Obj = podSpec.containers.find((c: Obj) => c.name === 'vitrine');
const env: Obj[] = container?.env ?? [];
const redisDeployment = only('Deployment', 'vitrine-redis');
const redisLabels: Labels = redisDeployment.spec.template.metadata.labels;
const redisContainer: Obj = redisDeployment.spec.template.spec.containers[0];
const workloads: Obj[] = [...all('StatefulSet'), ...all('Deployment')];

function envEntry(name: string): Obj {
  const e = env.find((x) => x.name === name);
  expect(e, `env ${name} in the StatefulSet`).to.not.equal(undefined);
  return e;
}
function literal(name: string): string {
  const e = envEntry(name);
  expect(e.value, `${name} has a literal value`).to.be.a('string');
  return e.value;
}
/** containerPort for a Service targetPort / probe port / policy port given by number or name. */
function containerPort(c: Obj, port: number | string): number | undefined {
  if (typeof port === 'number') return (c.ports ?? []).some((p: Obj) => p.containerPort === port) ? port : undefined;
  return (c.ports ?? []).find((p: Obj) => p.name === port)?.containerPort;
}
/** Kubernetes quantity in base units (bytes, cores). */
function quantity(q: string | number): number {
  const m = /^([0-9.]+)(m|k|Ki|Mi|Gi|Ti|M|G|T)?$/.exec(String(q));
  expect(m, `quantity ${q}`).to.not.equal(null);
  const mult: Record<string, number> = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
  return Number(m![1]) * (m![2] ? mult[m![2]]! : 1);
}
/** $(NAME) references in a value ($$(NAME) is an escape, not a reference). */
const refs = (value: string): string[] => [...value.matchAll(/(?<!\$)\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)].map((m) => m[1]!);

/** The environment one pod (vitrine-0 in namespace vitrine) would see, secrets filled in. */
function podEnvironment(secrets: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env) {
    if (typeof e.value === 'string') out[e.name] = e.value.replace(/(?<!\$)\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (_m: string, n: string) => out[n] ?? '');
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') out[e.name] = 'vitrine-0';
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') out[e.name] = kustomization.namespace;
    else if (e.valueFrom?.secretKeyRef) out[e.name] = secrets[e.valueFrom.secretKeyRef.key] ?? '';
    else expect.fail(`env ${e.name}: unexpected source ${JSON.stringify(e.valueFrom)}`);
  }
  return out;
}

describe('kubernetes manifests', function () {
  it('kustomization.yaml lists every manifest; only the *.example.yaml files stay out, and no Secret is applied', function () {
    const onDisk = readdirSync(DIR)
      .filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml')
      .sort();
    const examples = onDisk.filter((f) => f.endsWith('.example.yaml'));
    expect(examples).to.deep.equal(['ingress.example.yaml', 'secret.example.yaml']);
    expect([...resourceFiles].sort()).to.deep.equal(onDisk.filter((f) => !examples.includes(f)));
    for (const [file, objects] of [...byFile, ['secret.example.yaml', secretExample], ['ingress.example.yaml', ingressExample]] as [string, Obj[]][]) {
      expect(objects, file).to.not.be.empty;
      for (const o of objects) {
        expect(o.apiVersion, `${file}: apiVersion`).to.be.a('string');
        expect(o.metadata?.name, `${file}: metadata.name`).to.be.a('string');
      }
      // One resource kind per file; redis.yaml is the Redis Deployment with its Service.
      const kinds = new Set(objects.map((o) => o.kind));
      expect(kinds.size, `${file}: kinds ${[...kinds].join(', ')}`).to.equal(file === 'redis.yaml' ? 2 : 1);
    }
    expect(all('Secret')).to.deep.equal([]);
    expect(only('Namespace').metadata.name).to.equal(kustomization.namespace);
  });

  it('uses the same labels everywhere, and every selector picks the right pods', function () {
    expect(podLabels).to.include({ 'app.kubernetes.io/name': 'vitrine', 'app.kubernetes.io/component': 'server' });
    expect(redisLabels).to.include({ 'app.kubernetes.io/name': 'vitrine', 'app.kubernetes.io/component': 'redis' });
    for (const w of workloads) {
      expect(selects(labelSelector(w.spec.selector), w.spec.template.metadata.labels), `${w.kind}/${w.metadata.name} selector`).to.equal(true);
    }
    const services = all('Service');
    expect(services.map((s) => s.metadata.name).sort()).to.deep.equal(['vitrine', 'vitrine-internal', 'vitrine-redis']);
    for (const svc of services) {
      const isRedis = svc.metadata.name === 'vitrine-redis';
      expect(selects(svc.spec.selector, podLabels), `Service ${svc.metadata.name} selects the server pods`).to.equal(!isRedis);
      expect(selects(svc.spec.selector, redisLabels), `Service ${svc.metadata.name} selects the redis pod`).to.equal(isRedis);
    }
    const pdb = only('PodDisruptionBudget');
    expect(selects(labelSelector(pdb.spec.selector), podLabels), 'PDB selects the server pods').to.equal(true);
    expect(selects(labelSelector(pdb.spec.selector), redisLabels), 'PDB leaves Redis alone').to.equal(false);
    expect(pdb.spec.maxUnavailable).to.equal(1);
    expect(pdb.spec.minAvailable).to.equal(undefined);
  });

  it('the StatefulSet is governed by the headless internal Service, which also lists unready pods', function () {
    const internal = only('Service', sts.spec.serviceName);
    expect(sts.spec.serviceName).to.equal('vitrine-internal');
    expect(internal.spec.clusterIP).to.equal('None');
    expect(internal.spec.publishNotReadyAddresses).to.equal(true);
    expect(internal.spec.ports).to.have.length(1);
    expect(internal.spec.ports[0]).to.include({ name: 'internal', port: 7081 });
  });

  it('ports agree between the container, the Services, the Ingress and the environment', function () {
    expect(containerPort(container, 'http')).to.equal(8080);
    expect(containerPort(container, 'internal')).to.equal(7081);
    expect(literal('VITRINE_PORT')).to.equal('8080');
    expect(literal('VITRINE_CLUSTER_PORT')).to.equal('7081');

    const client = only('Service', 'vitrine');
    expect(client.spec.type ?? 'ClusterIP').to.equal('ClusterIP');
    expect(client.spec.sessionAffinity ?? 'None').to.equal('None');
    const http = client.spec.ports.find((p: Obj) => p.name === 'http');
    expect(http, 'client Service port named http').to.not.equal(undefined);
    expect(http.port).to.equal(8080);
    for (const svc of all('Service').filter((s) => s.metadata.name !== 'vitrine-redis')) {
      for (const p of svc.spec.ports) {
        const target = containerPort(container, p.targetPort ?? p.port);
        expect(target, `Service ${svc.metadata.name} port ${p.name} reaches a container port`).to.not.equal(undefined);
        // The internal port is reachable only through the headless Service.
        expect(target === 7081, `Service ${svc.metadata.name} port ${p.name} -> ${target}`).to.equal(svc.metadata.name === 'vitrine-internal');
      }
    }
    const internalTarget = only('Service', 'vitrine-internal').spec.ports[0].targetPort;
    expect(containerPort(container, internalTarget)).to.equal(Number(literal('VITRINE_CLUSTER_PORT')));
    expect(containerPort(container, http.targetPort)).to.equal(Number(literal('VITRINE_PORT')));

    for (const ing of all('Ingress', ingressExample)) {
      for (const rule of ing.spec.rules) {
        for (const path of rule.http.paths) {
          const backend = path.backend.service;
          expect(backend.name, `Ingress ${ing.metadata.name} backend`).to.equal('vitrine');
          const port = client.spec.ports.find((p: Obj) => (backend.port.name ? p.name === backend.port.name : p.port === backend.port.number));
          expect(port, `Ingress ${ing.metadata.name} backend port`).to.not.equal(undefined);
          expect(containerPort(container, port.targetPort)).to.equal(8080);
        }
      }
    }
    const main = only('Ingress', 'vitrine', ingressExample);
    expect(Number(main.metadata.annotations['nginx.ingress.kubernetes.io/proxy-read-timeout'])).to.be.at.least(3600);
    expect(Number(main.metadata.annotations['nginx.ingress.kubernetes.io/proxy-send-timeout'])).to.be.at.least(3600);
  });

  it('each node advertises its own DNS name under the headless Service', function () {
    expect(envEntry('VITRINE_NODE_ID').valueFrom?.fieldRef?.fieldPath).to.equal('metadata.name');
    expect(envEntry('POD_NAMESPACE').valueFrom?.fieldRef?.fieldPath).to.equal('metadata.namespace');
    const podEnv = podEnvironment({});
    const ns = kustomization.namespace;
    expect(podEnv.VITRINE_CLUSTER_ADVERTISE).to.equal(`vitrine-0.${sts.spec.serviceName}.${ns}.svc.cluster.local:${containerPort(container, 'internal')}`);
    expect(podEnv.VITRINE_NODE_ID).to.equal('vitrine-0');
  });

  it('variables used as $(NAME) are declared earlier in the same env list', function () {
    let seen = 0;
    for (const w of workloads) {
      for (const c of w.spec.template.spec.containers) {
        const declared: string[] = [];
        for (const e of c.env ?? []) {
          for (const r of typeof e.value === 'string' ? refs(e.value) : []) {
            seen++;
            expect(declared, `${w.metadata.name}/${c.name}: ${e.name} uses $(${r})`).to.include(r);
          }
          declared.push(e.name);
        }
        for (const arg of [...(c.command ?? []), ...(c.args ?? [])]) {
          for (const r of refs(String(arg))) expect(declared, `${c.name}: argument uses $(${r})`).to.include(r);
        }
      }
    }
    expect(seen, 'VITRINE_CLUSTER_ADVERTISE is built from references').to.be.at.least(3);
  });

  it('probes: startup and liveness on /healthz, readiness on /readyz, all on the http port', function () {
    const probes: [string, string][] = [
      ['startupProbe', '/healthz'],
      ['livenessProbe', '/healthz'],
      ['readinessProbe', '/readyz'],
    ];
    for (const [probe, path] of probes) {
      const get = container[probe]?.httpGet;
      expect(get, probe).to.not.equal(undefined);
      expect(get.path, probe).to.equal(path);
      expect(containerPort(container, get.port), `${probe} port`).to.equal(8080);
    }
  });

  it('secrets come from the Secret in secret.example.yaml, never from literal values', function () {
    const secrets = new Map<string, Set<string>>(all('Secret', secretExample).map((s) => [s.metadata.name, new Set([...Object.keys(s.stringData ?? {}), ...Object.keys(s.data ?? {})])]));
    const used = new Set<string>();
    for (const w of workloads) {
      for (const c of w.spec.template.spec.containers) {
        for (const e of c.env ?? []) {
          const ref = e.valueFrom?.secretKeyRef;
          if (ref) {
            expect(secrets.has(ref.name), `${e.name}: Secret ${ref.name}`).to.equal(true);
            expect([...secrets.get(ref.name)!], `${e.name}: key ${ref.key} of Secret ${ref.name}`).to.include(ref.key);
            used.add(`${ref.name}/${ref.key}`);
          }
          if (/SECRET|KEY|PASSWORD|TOKEN/.test(e.name)) expect(e.value, `${e.name} must not be a literal value`).to.equal(undefined);
        }
        for (const from of c.envFrom ?? []) {
          if (from.secretRef) expect(secrets.has(from.secretRef.name), `envFrom Secret ${from.secretRef.name}`).to.equal(true);
        }
      }
    }
    for (const name of SECRET_ENV) {
      expect(envEntry(name).valueFrom?.secretKeyRef, `${name} from a secretKeyRef`).to.be.an('object');
    }
    // Every key of the example is used: no forgotten secret.
    for (const [name, keys] of secrets) for (const k of keys) expect([...used], `${name}/${k} is used`).to.include(`${name}/${k}`);
  });

  it('the example Secret holds only placeholders the server refuses', function () {
    const secret = only('Secret', 'vitrine-secrets', secretExample);
    expect(secret.data).to.equal(undefined);
    for (const [key, value] of Object.entries(secret.stringData as Record<string, string>)) {
      expect(value, key).to.match(/CHANGE-ME/i);
      const setting = (SETTINGS as Record<string, { schema: { safeParse(v: unknown): { success: boolean } } }>)[key];
      expect(setting, `${key} is a setting`).to.not.equal(undefined);
      expect(setting!.schema.safeParse(value).success, `placeholder for ${key} must not validate`).to.equal(false);
    }
  });

  it('VITRINE_REDIS_URL points at the Redis Service, which reaches the Redis container', function () {
    const url = new URL(literal('VITRINE_REDIS_URL'));
    expect(url.protocol).to.match(/^rediss?:$/);
    const redisSvc = only('Service', 'vitrine-redis');
    const ns = kustomization.namespace;
    const name = redisSvc.metadata.name;
    expect([name, `${name}.${ns}`, `${name}.${ns}.svc`, `${name}.${ns}.svc.cluster.local`]).to.include(url.hostname);
    const port = redisSvc.spec.ports.find((p: Obj) => p.port === Number(url.port || 6379));
    expect(port, `Service ${name} port ${url.port}`).to.not.equal(undefined);
    expect(containerPort(redisContainer, port.targetPort ?? port.port)).to.equal(6379);
    expect(redisContainer.image).to.match(/^redis:7/);
    expect(redisContainer.args).to.deep.equal(['--save', '', '--appendonly', 'no']);
    expect(redisDeployment.spec.replicas).to.equal(1);
  });

  it('preStop drains the node and the grace period outlasts the drain', function () {
    expect(container.lifecycle?.preStop?.exec?.command).to.deep.equal(['node', 'server/bin.mjs', 'drain']);
    const drain = Number(literal('VITRINE_DRAIN_SECONDS'));
    expect(drain).to.be.at.least(1);
    expect(podSpec.terminationGracePeriodSeconds, 'grace period = drain + margin to end the rest').to.be.at.least(drain + 15);
  });

  it('the HPA scales the StatefulSet on CPU and slot usage, and scales down slowly', function () {
    const hpa = only('HorizontalPodAutoscaler');
    expect(hpa.apiVersion).to.equal('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef).to.deep.equal({ apiVersion: 'apps/v1', kind: 'StatefulSet', name: sts.metadata.name });
    // The HPA owns the replica count; a value in the StatefulSet would be re-applied on every apply.
    expect(sts.spec.replicas).to.equal(undefined);
    expect(hpa.spec.minReplicas).to.be.at.least(2);
    expect(hpa.spec.maxReplicas).to.be.at.least(hpa.spec.minReplicas);
    const cpu = hpa.spec.metrics.find((m: Obj) => m.type === 'Resource' && m.resource?.name === 'cpu');
    expect(cpu?.resource.target.type).to.equal('Utilization');
    expect(cpu.resource.target.averageUtilization).to.be.within(1, 100);
    const slots = hpa.spec.metrics.find((m: Obj) => m.type === 'Pods');
    expect(slots?.pods.metric.name).to.equal('vitrine_capacity_used_ratio');
    expect(slots.pods.target.type).to.equal('AverageValue');
    expect(quantity(slots.pods.target.averageValue)).to.be.closeTo(0.7, 1e-9);
    expect(hpa.spec.behavior.scaleDown.stabilizationWindowSeconds).to.be.at.least(300);
  });

  it('the internal port admits only vitrine server pods, and Redis only vitrine server pods', function () {
    const policies = all('NetworkPolicy');
    const covers = (rule: Obj, c: Obj, port: number): boolean =>
      !rule.ports?.length || rule.ports.some((p: Obj) => p.port === undefined || (p.endPort !== undefined ? port >= p.port && port <= p.endPort : containerPort(c, p.port) === port));
    const onlyServerPeers = (rule: Obj, what: string): void => {
      expect(rule.from, `${what}: a rule without "from" admits everyone`).to.be.an('array').that.is.not.empty;
      for (const peer of rule.from) {
        expect(peer.ipBlock, `${what}: ipBlock`).to.equal(undefined);
        expect(peer.namespaceSelector, `${what}: namespaceSelector widens the peer beyond this namespace`).to.equal(undefined);
        const sel = labelSelector(peer.podSelector);
        expect(selects(sel, podLabels), `${what}: peer selects the server pods`).to.equal(true);
        expect(selects(sel, redisLabels), `${what}: peer must not select Redis`).to.equal(false);
      }
    };
    const check = (target: Labels, c: Obj, port: number, what: string): void => {
      const governing = policies.filter((p) => selects(labelSelector(p.spec.podSelector), target));
      expect(governing, `a NetworkPolicy selects the ${what} pods`).to.not.be.empty;
      let admitted = 0;
      for (const p of governing) {
        expect(p.spec.policyTypes ?? ['Ingress']).to.include('Ingress');
        for (const rule of p.spec.ingress ?? []) {
          if (!covers(rule, c, port)) continue;
          admitted++;
          onlyServerPeers(rule, `${p.metadata.name} port ${port}`);
        }
      }
      expect(admitted, `some rule admits vitrine pods on ${what} port ${port}`).to.be.at.least(1);
    };
    check(podLabels, container, 7081, 'server');
    check(redisLabels, redisContainer, 6379, 'redis');
    // The public port stays open (ingress controller, Prometheus).
    const publicRule = policies
      .filter((p) => selects(labelSelector(p.spec.podSelector), podLabels))
      .flatMap((p) => p.spec.ingress ?? [])
      .find((r: Obj) => covers(r, container, 8080));
    expect(publicRule, 'a rule admits the public port 8080').to.not.equal(undefined);
  });

  it('memory request and limit fit the sessions per pod; a CPU request and no CPU limit', function () {
    const { requests, limits } = container.resources;
    expect(quantity(requests.cpu)).to.be.at.least(1);
    expect(limits?.cpu, 'CPU throttling ruins frame latency: no CPU limit').to.equal(undefined);
    const sessions = Number(literal('VITRINE_BROWSERS')) * Number(literal('VITRINE_SESSIONS_PER_BROWSER'));
    // Measured: server ~150 MB, first session ~180 MB with the browser, ~55 MB per further session.
    const needed = (150 + 180 + 55 * (sessions - 1)) * 1e6;
    expect(quantity(requests.memory), `memory request for ${sessions} sessions`).to.be.at.least(needed);
    expect(quantity(limits.memory)).to.be.at.least(quantity(requests.memory));
    const shm = podSpec.volumes.find((v: Obj) => v.name === 'shm');
    expect(quantity(shm.emptyDir.sizeLimit), '/dev/shm is memory and counts against the limit').to.be.below(quantity(limits.memory));
  });

  it('pod and container security context', function () {
    expect(podSpec.securityContext).to.deep.include({ runAsNonRoot: true, runAsUser: 10001, fsGroup: 10001 });
    expect(podSpec.securityContext.seccompProfile).to.deep.equal({ type: 'RuntimeDefault' });
    const sc = container.securityContext;
    // The browser user switch (Dockerfile, server/browser/sandbox.ts): the helper's file
    // capabilities need SETUID and SETGID in the bounding set and no no_new_privs; nothing else.
    expect(sc).to.deep.include({ allowPrivilegeEscalation: true, readOnlyRootFilesystem: true, runAsNonRoot: true, runAsUser: 10001 });
    expect(sc.capabilities.drop).to.deep.equal(['ALL']);
    expect([...sc.capabilities.add].sort()).to.deep.equal(['SETGID', 'SETUID']);
    expect(sc.privileged ?? false).to.equal(false);
    expect(sc.seccompProfile ?? podSpec.securityContext.seccompProfile).to.deep.equal({ type: 'RuntimeDefault' });
    for (const w of workloads) {
      // Service links would inject VITRINE_PORT=tcp://..., VITRINE_SERVICE_HOST, ... which the server refuses.
      expect(w.spec.template.spec.enableServiceLinks, `${w.metadata.name}: enableServiceLinks`).to.equal(false);
      const s = w.spec.template.spec;
      for (const c of s.containers) {
        // Only the Vitrine server's container escalates, and only through the browser user switch above.
        expect(c.securityContext?.allowPrivilegeEscalation, `${c.name}`).to.equal(c === container);
        expect(c.securityContext?.capabilities?.drop, `${c.name}`).to.include('ALL');
        if (c !== container) expect(c.securityContext?.capabilities?.add, `${c.name}: added capabilities`).to.equal(undefined);
        expect(c.securityContext?.runAsNonRoot ?? s.securityContext?.runAsNonRoot, `${c.name}`).to.equal(true);
      }
    }
  });

  it('volumes: a claim per pod for the data dir, emptyDir for /tmp, memory-backed /dev/shm', function () {
    const mounts = new Map<string, string>(container.volumeMounts.map((m: Obj) => [m.mountPath, m.name]));
    const claim = sts.spec.volumeClaimTemplates.find((t: Obj) => t.metadata.name === mounts.get('/var/lib/vitrine'));
    expect(claim, 'the data dir is a volumeClaimTemplate (one volume per node)').to.not.equal(undefined);
    expect(quantity(claim.spec.resources.requests.storage)).to.be.at.least(2 ** 30);
    expect(claim.spec.accessModes).to.deep.equal(['ReadWriteOnce']);
    const vol = (path: string): Obj => podSpec.volumes.find((v: Obj) => v.name === mounts.get(path));
    expect(vol('/var/lib/vitrine'), 'not shadowed by a pod volume').to.equal(undefined);
    expect(vol('/tmp')?.emptyDir).to.be.an('object');
    expect(vol('/dev/shm')?.emptyDir?.medium).to.equal('Memory');
    const dataDir = env.find((e) => e.name === 'VITRINE_DATA_DIR')?.value;
    if (dataDir !== undefined) expect(dataDir).to.equal('/var/lib/vitrine');
    expect(sts.spec.persistentVolumeClaimRetentionPolicy?.whenScaled ?? 'Retain', 'audit chains survive a scale-down').to.equal('Retain');
  });

  it('every VITRINE_* variable in the StatefulSet is a real setting, with a valid value', function () {
    const settings = SETTINGS as Record<string, { schema: { safeParse(v: unknown): { success: boolean } } }>;
    const missingCluster = CLUSTER_SETTINGS.filter((n) => !(n in settings));
    expect(missingCluster, 'cluster settings in server/config.ts SETTINGS').to.deep.equal([]);
    const podEnv = podEnvironment({});
    for (const e of env.filter((x) => x.name.startsWith('VITRINE_'))) {
      expect(settings[e.name], `${e.name} is a setting in server/config.ts`).to.not.equal(undefined);
      if (e.value !== undefined) expect(settings[e.name]!.schema.safeParse(podEnv[e.name]).success, `${e.name}=${podEnv[e.name]}`).to.equal(true);
    }
    for (const name of CLUSTER_SETTINGS) envEntry(name);
  });

  it('the pod environment, with real secrets, passes the server configuration check', function () {
    const secrets = {
      VITRINE_JWT_SECRET: randomBytes(48).toString('base64'),
      VITRINE_AUDIT_KEY: randomBytes(48).toString('base64'),
      VITRINE_RECORDING_KEY: randomBytes(32).toString('base64'),
      VITRINE_CLUSTER_SECRET: randomBytes(48).toString('base64'),
    };
    const config = loadConfig(podEnvironment(secrets));
    expect(config.devMode).to.equal(false);
    expect(config.port).to.equal(8080);
    expect(config.dataDir).to.equal('/var/lib/vitrine');
    expect(config.recordingKey).to.equal(secrets.VITRINE_RECORDING_KEY);
    expect(config.pool.browsers * config.pool.sessionsPerBrowser).to.equal(12);
  });
});
