import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startJaeger, type Jaeger } from '../support/backends.ts';
import { dataOf, find, podSpecs, renderChart, renderError, renderExample, type K8sObject, type Rendered } from '../support/chart.ts';
import { kubectlValidate } from '../support/manifests.ts';

/**
 * Exposure: an Ingress or a Gateway API HTTPRoute per component (Grafana, Jaeger's query UI,
 * the API), from one template per kind. What a user notices: each routes to the Service port
 * that serves the component, with the hosts, TLS and Gateway listeners they chose, and a
 * component under a path prefix actually serves there.
 */

interface Ingress extends K8sObject {
  spec: {
    ingressClassName?: string;
    tls?: { secretName: string; hosts: string[] }[];
    rules: { host: string; http: { paths: { path: string; pathType: string; backend: { service: { name: string; port: { name: string } } } }[] } }[];
  };
}
interface HttpRoute extends K8sObject {
  spec: {
    parentRefs: { name: string; namespace?: string; sectionName?: string }[];
    hostnames?: string[];
    rules: { matches: { path: { type: string; value: string } }[]; filters?: unknown[]; backendRefs: { name: string; port: number }[] }[];
  };
}
interface Service extends K8sObject {
  spec: { ports: { name: string; port: number }[] };
}

const COMPONENTS = ['api', 'jaeger', 'grafana'] as const;
const of = <T extends K8sObject>(r: Rendered, kind: string) => r.objects.filter((o) => o.kind === kind) as unknown as T[];
const envOf = (r: Rendered, deployment: string) =>
  Object.fromEntries((podSpecs([find(r.objects, 'Deployment', deployment)])[0]!.spec.containers[0]!.env ?? []).map((e) => [e.name, e.value]));

let ingress: Rendered;
let gateway: Rendered;
let defaults: Rendered;
beforeAll(async () => {
  [ingress, gateway, defaults] = await Promise.all([renderExample('exposure-ingress'), renderExample('exposure-gateway-api'), renderChart()]);
});

describe('nothing is exposed unless asked', () => {
  it('the default values render no Ingress, no HTTPRoute, and Grafana and Jaeger serve at /', () => {
    expect(of(defaults, 'Ingress')).toEqual([]);
    expect(of(defaults, 'HTTPRoute')).toEqual([]);
    expect(envOf(defaults, 'tracebridge-grafana').GF_SERVER_SERVE_FROM_SUB_PATH).toBeUndefined();
    expect(envOf(defaults, 'tracebridge-jaeger').JAEGER_QUERY_BASE_PATH).toBeUndefined();
  });

  it('a component that is not deployed gets no Ingress even when its ingress is enabled', async () => {
    const r = await renderExample('exposure-ingress', { set: { 'grafana.enabled': 'false', 'jaeger.enabled': 'false', 'destinations.jaeger.endpoint': 'jaeger.example.net:4317' } });
    expect(of<Ingress>(r, 'Ingress').map((o) => o.metadata.name)).toEqual(['tracebridge-api']);
  });
});

describe('examples/exposure-ingress', () => {
  it.each(COMPONENTS)('%s: an Ingress to the port of its Service that serves it, with the class, hosts, annotations and TLS Secret', (component) => {
    const object = find(of<Ingress>(ingress, 'Ingress'), 'Ingress', `tracebridge-${component}`);
    const service = find(of<Service>(ingress, 'Service'), 'Service', `tracebridge-${component}`);
    expect(object.apiVersion).toBe('networking.k8s.io/v1');
    expect(object.spec.ingressClassName).toBe('nginx');
    expect(object.metadata.annotations).toEqual({ 'cert-manager.io/cluster-issuer': 'letsencrypt' });
    const [rule] = object.spec.rules;
    expect(object.spec.tls).toEqual([{ secretName: component === 'api' ? 'tracebridge-api-tls' : 'tracebridge-tls', hosts: [rule!.host] }]);
    const backend = rule!.http.paths[0]!.backend.service;
    expect(backend.name).toBe(service.metadata.name);
    const wanted = { api: 'http', jaeger: 'query-http', grafana: 'http' }[component];
    expect(backend.port.name).toBe(wanted);
    expect(service.spec.ports.map((p) => p.name)).toContain(backend.port.name);
    expect(rule!.http.paths[0]!.path).toBe({ api: '/', jaeger: '/jaeger', grafana: '/grafana' }[component]);
  });

  it('Grafana under /grafana knows it: root URL with the prefix and serve_from_sub_path', () => {
    const env = envOf(ingress, 'tracebridge-grafana');
    expect(env.GF_SERVER_ROOT_URL).toBe('%(protocol)s://%(domain)s:%(http_port)s/grafana/');
    expect(env.GF_SERVER_SERVE_FROM_SUB_PATH).toBe('true');
  });

  it("Jaeger under /jaeger: its base_path, and Grafana's datasource and the helm test reach it there", () => {
    expect(envOf(ingress, 'tracebridge-jaeger').JAEGER_QUERY_BASE_PATH).toBe('/jaeger');
    expect(dataOf(find(ingress.objects, 'ConfigMap', 'tracebridge-grafana-datasources'))['datasources.yaml']).toContain('url: http://tracebridge-jaeger:16686/jaeger\n');
    const test = podSpecs(ingress.objects.filter((o) => o.kind === 'Pod'))[0]!.spec.containers[0]!;
    expect(test.env?.find((e) => e.name === 'JAEGER_URL')?.value).toBe('http://tracebridge-jaeger:16686/jaeger');
  });
});

describe('examples/exposure-gateway-api', () => {
  it.each(COMPONENTS)('%s: an HTTPRoute on the Gateway listener, for its host and prefix, to its Service port', (component) => {
    const route = find(of<HttpRoute>(gateway, 'HTTPRoute'), 'HTTPRoute', `tracebridge-${component}`);
    const service = find(of<Service>(gateway, 'Service'), 'Service', `tracebridge-${component}`);
    expect(route.apiVersion).toBe('gateway.networking.k8s.io/v1');
    expect(route.spec.parentRefs).toEqual([{ name: 'public', namespace: 'gateway-system', sectionName: 'https' }]);
    expect(route.spec.hostnames).toEqual(['tracebridge.example.com']);
    const [rule] = route.spec.rules;
    expect(rule!.matches).toEqual([{ path: { type: 'PathPrefix', value: `/${component}` } }]);
    const port = { api: 'http', jaeger: 'query-http', grafana: 'http' }[component];
    expect(rule!.backendRefs).toEqual([{ name: service.metadata.name, port: service.spec.ports.find((p) => p.name === port)!.port }]);
  });

  it('the API, which serves at /, gets /api stripped; Grafana and Jaeger keep their prefix and are told it', () => {
    const rules = (name: string) => find(of<HttpRoute>(gateway, 'HTTPRoute'), 'HTTPRoute', name).spec.rules[0]!;
    expect(rules('tracebridge-api').filters).toEqual([{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } }]);
    expect(rules('tracebridge-grafana').filters).toBeUndefined();
    expect(rules('tracebridge-jaeger').filters).toBeUndefined();
    expect(envOf(gateway, 'tracebridge-grafana').GF_SERVER_SERVE_FROM_SUB_PATH).toBe('true');
    expect(envOf(gateway, 'tracebridge-jaeger').JAEGER_QUERY_BASE_PATH).toBe('/jaeger');
  });

  it("the HTTPRoutes pass the Gateway API's own CRD schema, and a wrong one does not", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tracebridge-httproute-'));
    // Without the render's bookkeeping field (the template each object came from).
    const routes = of<HttpRoute & { source?: string }>(gateway, 'HTTPRoute').map((o) => {
      const copy = structuredClone(o);
      delete copy.source;
      return copy;
    });
    await writeFile(join(dir, 'ok.yaml'), routes.map((o) => stringify(o)).join('---\n'));
    expect(await kubectlValidate(join(dir, 'ok.yaml'), '1.35')).toEqual({ ok: true, output: expect.any(String) as string });
    const bad = structuredClone(routes[0]!);
    bad.spec.rules[0]!.matches[0]!.path.type = 'Prefix';
    await writeFile(join(dir, 'bad.yaml'), stringify(bad));
    const result = await kubectlValidate(join(dir, 'bad.yaml'), '1.35');
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/spec\.rules\[0\]\.matches\[0\]\.path\.type: Unsupported value: "Prefix"/);
  });
});

describe('a prefix Jaeger is told is where the real Jaeger serves', () => {
  let jaeger: Jaeger;
  beforeAll(async () => {
    jaeger = await startJaeger({ env: { JAEGER_QUERY_BASE_PATH: envOf(ingress, 'tracebridge-jaeger').JAEGER_QUERY_BASE_PATH! } });
  });
  afterAll(() => jaeger.stop());

  it('the query API answers under /jaeger', async () => {
    expect(jaeger.queryUrl).toMatch(/\/jaeger$/);
    const response = await fetch(`${jaeger.queryUrl}/api/services`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ data: null, errors: null });
  });
});

describe('bad exposure values fail with the key to fix', () => {
  it('an enabled Ingress without hosts', async () => {
    expect(await renderError({ set: { 'grafana.ingress.enabled': 'true' } })).toMatch(/grafana\/ingress\/hosts.*minItems/);
  });

  it('an enabled HTTPRoute without a Gateway', async () => {
    expect(await renderError({ set: { 'api.httpRoute.enabled': 'true' } })).toMatch(/api\/httpRoute\/parentRefs.*minItems/);
  });

  it('a path that is not absolute, and a pathType Ingress does not know', async () => {
    expect(await renderError({ set: { 'jaeger.httpRoute.path': 'jaeger' } })).toMatch(/jaeger\/httpRoute\/path/);
    expect(await renderError({ set: { 'api.ingress.pathType': 'Regex' } })).toMatch(/api\/ingress\/pathType/);
  });

  it('Grafana behind an Ingress and an HTTPRoute with different prefixes', async () => {
    const message = await renderError({
      valuesFiles: [],
      set: {
        'grafana.ingress.enabled': 'true',
        'grafana.ingress.hosts[0]': 'g.example.com',
        'grafana.ingress.path': '/grafana',
        'grafana.httpRoute.enabled': 'true',
        'grafana.httpRoute.parentRefs[0].name': 'public',
        'grafana.httpRoute.path': '/dashboards',
      },
    });
    expect(message).toContain('grafana.ingress.path "/grafana" and grafana.httpRoute.path "/dashboards" differ');
  });
});
