import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { platformApp } from '../../cdk8s/examples/embed.ts';
import { TracebridgeChart, TracebridgeStack, ValuesError } from '../../cdk8s/src/index.ts';
import { App, Chart, JsonPatch } from 'cdk8s';
import { EXAMPLES, find, parseManifest, podSpecs } from '../support/chart.ts';
import { MAIN_FILE, SECRETS_FILE, synth, synthError, synthExample, type Synth } from '../support/cdk8s.ts';
import { KUBERNETES_VERSIONS, kubeLint, kubectlValidate } from '../support/manifests.ts';
import { leaksOutsideSecrets, secretValues } from '../support/secret-leaks.ts';
import { repoRoot } from '../support/process.ts';

/**
 * The cdk8s app on its own: what `make synth` writes, valid Kubernetes 1.31–1.35 that passes
 * kube-linter, the generated passwords kept apart, typed values and accessors, escape hatches,
 * `make deploy-cdk8s` against a recording kubectl, and the construct used from another app.
 */

const run = promisify(execFile);
const synths = new Map<string, Synth>();
/** Each example's two files as one stream, for the validators. */
const streams = new Map<string, string>();

const joinFiles = (s: Synth) =>
  [MAIN_FILE, SECRETS_FILE]
    .filter((f) => existsSync(join(s.dir, f)))
    .map((f) => readFileSync(join(s.dir, f), 'utf8'))
    .join('---\n');

beforeAll(async () => {
  await Promise.all(
    EXAMPLES.map(async (example) => {
      const s = await synthExample(example);
      synths.set(example, s);
      const file = join(s.dir, 'all.yaml');
      writeFileSync(file, joinFiles(s));
      streams.set(example, file);
    }),
  );
});

describe('cdk8s synth output', () => {
  it('the CLI says what it wrote: everything to apply, and the generated Secrets apart', () => {
    const s = synths.get('kind')!;
    expect(s.stdout).toMatch(/tracebridge\.k8s\.yaml: 25 objects \(kubectl apply --server-side\)/);
    expect(s.stdout).toMatch(/generated-secrets\.k8s\.yaml: 2 generated Secrets \(created only when absent\)/);
    expect(s.secrets.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Secret/tracebridge-grafana', 'Secret/tracebridge-postgresql']);
    expect(s.objects.filter((o) => o.kind === 'Secret')).toEqual([]);
  });

  const cases = EXAMPLES.flatMap((example) => KUBERNETES_VERSIONS.map((version) => [example, version] as const));
  it.each(cases)('examples/%s is valid on Kubernetes %s (kubectl-validate)', async (example, version) => {
    expect(await kubectlValidate(streams.get(example)!, version)).toEqual({ ok: true, output: expect.any(String) as string });
  });

  it.each(EXAMPLES)('examples/%s passes kube-linter', async (example) => {
    const result = await kubeLint(streams.get(example)!);
    expect(result.output).toContain('No lint errors found');
    expect(result.ok).toBe(true);
  });

  it('the validators reject what they should in synth output too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracebridge-cdk8s-bad-'));
    const text = readFileSync(streams.get('kind')!, 'utf8');
    const badSchema = join(dir, 'schema.yaml');
    writeFileSync(badSchema, text.replace('revisionHistoryLimit: 3', 'revisionHistoryLimit: three'));
    const validated = await kubectlValidate(badSchema, '1.35');
    expect(validated.ok).toBe(false);
    expect(validated.output).toMatch(/revisionHistoryLimit/);
    const badLint = join(dir, 'lint.yaml');
    writeFileSync(badLint, text.replace(/readOnlyRootFilesystem: true/g, 'readOnlyRootFilesystem: false'));
    const linted = await kubeLint(badLint);
    expect(linted.ok).toBe(false);
    expect(linted.output).toMatch(/check: no-read-only-root-fs/);
  });

  it.each(EXAMPLES)('examples/%s: every pod is Pod Security "restricted", with requests and limits from the values', (example) => {
    for (const { owner, spec } of podSpecs(synths.get(example)!.objects)) {
      expect(spec.securityContext, owner).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
        expect(c.securityContext, `${owner} ${c.name}`).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ['ALL'] },
          seccompProfile: { type: 'RuntimeDefault' },
        });
        expect(Object.keys(c.resources?.requests ?? {}).sort(), `${owner} ${c.name}`).toEqual(['cpu', 'memory']);
      }
    }
  });
});

describe('generated passwords', () => {
  it('are 32 random alphanumerics, new on each synth, in their own file', async () => {
    const again = await synthExample('kind');
    const password = (s: Synth, name: string, key: string) => Buffer.from((find(s.secrets, 'Secret', name).data as Record<string, string>)[key]!, 'base64').toString();
    for (const [name, key] of [
      ['tracebridge-postgresql', 'password'],
      ['tracebridge-grafana', 'admin-password'],
    ] as const) {
      expect(password(synths.get('kind')!, name, key)).toMatch(/^[A-Za-z0-9]{32}$/);
      expect(password(again, name, key)).not.toBe(password(synths.get('kind')!, name, key));
    }
  });

  it('leave no copy behind: the temporary rendering cdk8s\' Helm writes is removed', () => {
    const renderings = () => new Set(readdirSync(tmpdir()).filter((f) => f.startsWith('cdk8s-helm-')));
    const before = renderings();
    const stack = new TracebridgeStack(new Chart(new App(), 'c'), 's');
    expect(stack.generatedSecrets).toHaveLength(2);
    expect([...renderings()].filter((f) => !before.has(f))).toEqual([]);
  });

  it('are not generated when existingSecrets are given, and then there is no secrets file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracebridge-cdk8s-'));
    const file = join(dir, 'values.yaml');
    writeFileSync(file, stringify({ postgresql: { existingSecret: 'pg' }, grafana: { existingSecret: 'grafana-admin' } }));
    const s = await synth({ valuesFiles: [file] });
    expect(existsSync(join(s.dir, SECRETS_FILE))).toBe(false);
    expect(s.stdout).not.toContain(SECRETS_FILE);
    expect(find(s.objects, 'StatefulSet', 'tracebridge-postgresql')).toBeDefined();
  });
});

describe('the secret scan', () => {
  const CREDENTIALS = ['gc-instance-8f3a91', 'glc_secret_token_5b2e77', 'dd_api_key_c0ffee1234', 'Bearer otlp_secret_9d8c7b'];

  it.each(EXAMPLES)('examples/%s: the generated passwords appear only in their Secrets, in either file', (example) => {
    const { objects, secrets } = synths.get(example)!;
    const generated = secretValues(secrets);
    // external-postgres and gitops take every password from an existingSecret.
    if (!['external-postgres', 'gitops'].includes(example)) expect(generated.length).toBeGreaterThan(0);
    expect(leaksOutsideSecrets([...objects, ...secrets], generated)).toEqual([]);
  });

  it('credentials given as values appear in the chart-created Secret and nowhere else', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracebridge-cdk8s-'));
    const file = join(dir, 'credentials.yaml');
    writeFileSync(
      file,
      stringify({
        destinations: { grafanaCloud: { enabled: true, endpoint: 'https://otlp-gateway-prod-eu-west-2.grafana.net/otlp' }, datadog: { enabled: true }, otlp: { enabled: true, endpoint: 'tempo:4317' } },
        destinationCredentials: { create: true, grafanaCloud: { instanceId: CREDENTIALS[0], apiToken: CREDENTIALS[1] }, datadog: { apiKey: CREDENTIALS[2] }, otlp: { authorization: CREDENTIALS[3] } },
      }),
    );
    const { objects, secrets } = await synth({ valuesFiles: [file] });
    const inSecrets = secretValues([find(objects, 'Secret', 'tracebridge-destination-credentials')]);
    for (const credential of CREDENTIALS) expect(inSecrets).toContain(credential);
    expect(leaksOutsideSecrets([...objects, ...secrets], CREDENTIALS)).toEqual([]);
  });
});

describe('values', () => {
  const chart = () => new Chart(new App(), 'c', { namespace: 'tracebridge' });
  const spec = (stack: TracebridgeStack, kind: string) => (stack.apiObject(kind, 'api').toJson() as { spec: Record<string, unknown> }).spec;

  it('are typed (the props type is generated from values.schema.json) and merged in order like repeated --values; null deletes a default', () => {
    const stack = new TracebridgeStack(chart(), 's', {
      values: [{ api: { replicas: 2, service: { port: 8080 }, podAnnotations: { a: 'b' } } }, { api: { service: { type: 'NodePort' }, podAnnotations: null } }],
    });
    expect(spec(stack, 'Deployment').replicas).toBe(2);
    expect(spec(stack, 'Service')).toMatchObject({ type: 'NodePort', ports: expect.arrayContaining([expect.objectContaining({ port: 8080 })]) as unknown });
    const template = spec(stack, 'Deployment').template as { metadata: { annotations?: Record<string, string> } };
    expect(template.metadata.annotations?.a).toBeUndefined();
    expect(JSON.stringify(new TracebridgeStack(chart(), 't', { values: { api: { podAnnotations: { a: 'b' } } } }).apiObject('Deployment', 'api').toJson())).toContain('"a":"b"');
  });

  it('that helm refuses throw a ValuesError with helm\'s message, at construction', () => {
    // @ts-expect-error -- the generated props type already refuses a string here
    expect(() => new TracebridgeStack(chart(), 's', { values: { api: { samplingRatio: 'all' } } })).toThrow(ValuesError);
    expect(() => new TracebridgeStack(chart(), 's', { values: { api: { samplingRatio: 2 } } })).toThrow("at '/api/samplingRatio': maximum: got 2, want 1");
    expect(() => new TracebridgeStack(chart(), 's', { values: { grafana: { enabled: true }, prometheus: { enabled: false } } })).toThrow("at '/prometheus/enabled': value must be true");
  });

  it('the CLI exits 2 on bad values, a missing file or a bad flag, saying why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracebridge-cdk8s-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'api:\n  samplingRatio: 2\n');
    const bad = await synthError({ valuesFiles: [file] });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`cdk8s: helm refused the values (${file}):\nError: values don't meet the specifications of the schema(s) in the following chart(s):\ntracebridge:\n`);
    expect(bad.stderr).toContain("- at '/api/samplingRatio': maximum: got 2, want 1");
    expect(bad.stderr).not.toContain('level=');
    expect(await synthError({ valuesFiles: [join(dir, 'missing.yaml')] })).toMatchObject({ code: 2, stderr: expect.stringMatching(/missing\.yaml: no such file or directory/) as string });
    const flag = await run(process.execPath, ['cdk8s/src/main.ts', '--value', file], { cwd: repoRoot }).catch((e: unknown) => e as { code: number; stderr: string });
    expect(flag).toMatchObject({ code: 2, stderr: expect.stringMatching(/Unknown option '--value'[\s\S]*usage: node cdk8s\/src\/main\.ts --values/) as string });
  });

  it('the CLI says which helm it could not run', async () => {
    const failed = await run(process.execPath, ['cdk8s/src/main.ts', '--out', mkdtempSync(join(tmpdir(), 'tracebridge-cdk8s-'))], {
      cwd: repoRoot,
      env: { ...process.env, HELM_BIN: '/nonexistent/helm' },
    }).catch((e: unknown) => e as { code: number; stderr: string });
    expect(failed).toMatchObject({ code: 1, stderr: "cdk8s: unable to execute '/nonexistent/helm' to render Helm chart. Is it installed on your system?\n" });
  });

  it('release names follow helm\'s rule', async () => {
    expect(await synthError({ release: 'Bad_Name' })).toMatchObject({ code: 2, stderr: expect.stringContaining('release name "Bad_Name": invalid release name') as string });
  });
});

describe('accessors and escape hatches', () => {
  const stack = () => new TracebridgeChart(new App(), 'c', { namespace: 'obs', release: 'demo', values: { postgresql: { enabled: false }, externalDatabase: { host: 'db', existingSecret: 'db-password' } } }).stack;

  it('the collector\'s OTLP endpoints and the Service names come from the rendered Services', () => {
    const s = stack();
    expect(s.otlpGrpcEndpoint).toBe('http://demo-tracebridge-collector.obs.svc:4317');
    expect(s.otlpHttpEndpoint).toBe('http://demo-tracebridge-collector.obs.svc:4318');
    expect(s.service('api').name).toBe('demo-tracebridge-api');
    expect(s.service('jaeger').port('otlp-grpc')).toBe(4317);
    expect(() => s.service('postgresql')).toThrow(/no Service for component postgresql/);
  });

  it('the Secret keys the pods read, the ones to create beforehand included', () => {
    expect(stack().secretKeysRead).toEqual(expect.arrayContaining([{ name: 'db-password', key: 'password' }, { name: 'demo-tracebridge-grafana', key: 'admin-password' }]));
  });

  it('a JSON patch after synthesis lands in the output', () => {
    const s = stack();
    s.apiObject('Deployment', 'api').addJsonPatch(JsonPatch.add('/spec/template/metadata/annotations', { 'example.com/team': 'platform' }));
    const deployment = s.apiObject('Deployment', 'api').toJson() as { spec: { template: { metadata: { annotations: Record<string, string> } } } };
    expect(deployment.spec.template.metadata.annotations).toEqual({ 'example.com/team': 'platform' });
  });
});

describe('the constructs from another cdk8s app (cdk8s/examples/embed.ts)', () => {
  it('synthesizes the stack inside a platform chart, in its namespace, with its own objects', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracebridge-embed-'));
    platformApp(dir).synth();
    const platform = parseManifest(readFileSync(join(dir, 'platform.k8s.yaml'), 'utf8'));
    const secrets = parseManifest(readFileSync(join(dir, 'platform-secrets.k8s.yaml'), 'utf8'));
    expect(secrets.map((o) => o.metadata.name).sort()).toEqual(['obs-tracebridge-grafana', 'obs-tracebridge-postgresql']);
    for (const o of [...platform, ...secrets]) expect(o.metadata.namespace).toBe('platform');
    expect(find(platform, 'ConfigMap', 'otel-settings').data).toEqual({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://obs-tracebridge-collector.platform.svc:4317',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    });
    expect(find(platform, 'Deployment', 'obs-tracebridge-api').metadata.annotations).toEqual({ 'platform.example.com/owner': 'observability' });
    const api = podSpecs([find(platform, 'Deployment', 'obs-tracebridge-api')])[0]!.spec.containers[0]!;
    expect(api.env).toContainEqual(expect.objectContaining({ value: 'staging' }));
    expect(platform.filter((o) => o.kind === 'NetworkPolicy')).toHaveLength(6);
    const all = join(dir, 'all.yaml');
    writeFileSync(all, `${readFileSync(join(dir, 'platform.k8s.yaml'), 'utf8')}---\n${readFileSync(join(dir, 'platform-secrets.k8s.yaml'), 'utf8')}`);
    expect((await kubectlValidate(all, '1.35')).ok).toBe(true);
  });

  it('runs as documented: node cdk8s/examples/embed.ts <outdir>', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracebridge-embed-'));
    await run(process.execPath, ['cdk8s/examples/embed.ts', dir], { cwd: repoRoot });
    expect(existsSync(join(dir, 'platform.k8s.yaml'))).toBe(true);
  });

});

describe('make synth and make deploy-cdk8s', () => {
  /** A kubectl that records its calls and keeps created namespaces and Secrets in a directory. */
  function fakeKubectl(): { bin: string; log: string; state: string } {
    const bin = mkdtempSync(join(tmpdir(), 'tracebridge-kubectl-'));
    const state = join(bin, 'state');
    const log = join(bin, 'calls.log');
    writeFileSync(
      join(bin, 'kubectl'),
      `#!/usr/bin/env bash
echo "$*" >> "${log}"
mkdir -p "${state}"
case "$1 $2" in
  "get namespace") [ -f "${state}/ns-$3" ] ;;
  "create namespace") touch "${state}/ns-$3"; echo "namespace/$3 created" ;;
  "create -f")
    if [ -n "\${FAKE_KUBECTL_FORBIDDEN:-}" ]; then echo 'Error from server (Forbidden): secrets is forbidden' >&2; exit 1; fi
    rc=0
    for name in $(awk '/^kind: Secret/{s=1} s && /^  name: /{print $2; s=0}' "$3"); do
      if [ -f "${state}/secret-$name" ]; then echo "Error from server (AlreadyExists): error when creating \\"$3\\": secrets \\"$name\\" already exists" >&2; rc=1
      else touch "${state}/secret-$name"; echo "secret/$name created"; fi
    done
    exit $rc ;;
  "apply --server-side") echo "applied $(grep -c '^kind:' "\${@: -1}") objects" ;;
  *) echo "unexpected: $*" >&2; exit 3 ;;
esac
`,
    );
    chmodSync(join(bin, 'kubectl'), 0o755);
    return { bin, log, state };
  }

  const make = async (target: string, env: Record<string, string> = {}) =>
    run((await run('bash', ['-c', 'command -v make'])).stdout.trim(), ['--no-print-directory', target], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      timeout: 120_000,
    });

  it('make synth writes cdk8s/dist/ from the kind example', async () => {
    const { stdout } = await make('synth');
    expect(stdout).toContain('node cdk8s/src/main.ts --values charts/tracebridge/examples/kind/values.yaml --release tracebridge --namespace tracebridge --out cdk8s/dist');
    const objects = parseManifest(readFileSync(join(repoRoot, 'cdk8s/dist', MAIN_FILE), 'utf8'));
    expect(find(objects, 'Deployment', 'tracebridge-api').metadata.namespace).toBe('tracebridge');
    expect(existsSync(join(repoRoot, 'cdk8s/dist', SECRETS_FILE))).toBe(true);
  }, 130_000);

  it('deploy-cdk8s: namespace, generated Secrets created once and then kept, everything else applied server-side', async () => {
    const kubectl = fakeKubectl();
    const env = { PATH: `${kubectl.bin}:${process.env.PATH ?? ''}` };
    const first = await make('deploy-cdk8s', env);
    expect(first.stdout).toContain('namespace/tracebridge created');
    expect(first.stdout).toContain('secret/tracebridge-postgresql created');
    expect(first.stdout).toContain('applied 25 objects');
    const second = await make('deploy-cdk8s', env);
    expect(second.stdout).toContain('secret/tracebridge-postgresql kept (it exists; its password stays)');
    expect(second.stdout).toContain('secret/tracebridge-grafana kept (it exists; its password stays)');
    expect(second.stdout).toContain('applied 25 objects');
    const calls = readFileSync(kubectl.log, 'utf8').trim().split('\n');
    expect(calls).toEqual([
      'get namespace tracebridge',
      'create namespace tracebridge',
      'create -f cdk8s/dist/generated-secrets.k8s.yaml',
      'apply --server-side --field-manager=tracebridge-cdk8s -f cdk8s/dist/tracebridge.k8s.yaml',
      'get namespace tracebridge',
      'create -f cdk8s/dist/generated-secrets.k8s.yaml',
      'apply --server-side --field-manager=tracebridge-cdk8s -f cdk8s/dist/tracebridge.k8s.yaml',
    ]);
  }, 130_000);

  it('deploy-cdk8s stops on any other error creating the Secrets, before applying', async () => {
    const kubectl = fakeKubectl();
    const failed = await make('deploy-cdk8s', { PATH: `${kubectl.bin}:${process.env.PATH ?? ''}`, FAKE_KUBECTL_FORBIDDEN: '1' }).catch(
      (e: unknown) => e as { stderr: string },
    );
    expect(failed.stderr).toContain('Error from server (Forbidden)');
    expect(readFileSync(kubectl.log, 'utf8')).not.toContain('apply');
  }, 130_000);

  it('deploy-cdk8s says when kubectl is missing', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'tracebridge-path-'));
    for (const tool of ['bash', 'node']) {
      const path = (await run('bash', ['-c', `command -v ${tool}`])).stdout.trim();
      writeFileSync(join(bin, tool), `#!/bin/sh\nexec ${path} "$@"\n`);
      chmodSync(join(bin, tool), 0o755);
    }
    const failed = await make('deploy-cdk8s', { PATH: bin }).catch((e: unknown) => e as { stderr: string });
    expect(failed.stderr).toMatch(/tracebridge: 'kubectl' is not installed; install kubectl/);
  }, 130_000);
});

describe('the cdk8s README example', () => {
  it('shows the embedding example that is tested here', () => {
    const readme = readFileSync(join(repoRoot, 'cdk8s/README.md'), 'utf8');
    const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(code, 'a ```ts block in cdk8s/README.md').not.toBe('');
    const example = readFileSync(join(repoRoot, 'cdk8s/examples/embed.ts'), 'utf8');
    for (const line of code.split('\n').filter((l) => l.trim() && !l.trim().startsWith('//') && !l.includes('...'))) expect(example, line).toContain(line.trim());
  });
});
