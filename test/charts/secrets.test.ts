import { describe, expect, it } from 'vitest';
import { EXAMPLES, podSpecs, renderChart, renderExample } from '../support/chart.ts';
import { leaksOutsideSecrets, secretValues } from '../support/secret-leaks.ts';

/**
 * No credential outside a Secret: not in ConfigMaps (the collector config keeps ${env:...}
 * references), not in env `value:` fields, not in annotations or labels.
 */

const CREDENTIALS = {
  'destinationCredentials.grafanaCloud.instanceId': 'gc-instance-8f3a91',
  'destinationCredentials.grafanaCloud.apiToken': 'glc_secret_token_5b2e77',
  'destinationCredentials.datadog.apiKey': 'dd_api_key_c0ffee1234',
  'destinationCredentials.otlp.authorization': 'Bearer otlp_secret_9d8c7b',
};

const withEveryCredential = {
  'destinations.grafanaCloud.enabled': 'true',
  'destinations.grafanaCloud.endpoint': 'https://otlp-gateway-prod-eu-west-2.grafana.net/otlp',
  'destinations.datadog.enabled': 'true',
  'destinations.otlp.enabled': 'true',
  'destinations.otlp.endpoint': 'tempo:4317',
  'destinationCredentials.create': 'true',
  ...CREDENTIALS,
};

const SECRET_NAME = /PASSWORD|PASSWD|TOKEN|SECRET|API_?KEY|AUTHORIZATION|CREDENTIAL/i;

describe('secrets stay in Secrets', () => {
  it('credentials given as values appear in the chart-created Secret and nowhere else', async () => {
    const { objects } = await renderChart({ set: withEveryCredential });
    const inSecrets = secretValues(objects);
    for (const credential of Object.values(CREDENTIALS)) expect(inSecrets).toContain(credential);
    expect(leaksOutsideSecrets(objects, Object.values(CREDENTIALS))).toEqual([]);
  });

  it.each(EXAMPLES)('examples/%s: generated passwords appear only in their Secrets', async (example) => {
    const { objects } = await renderExample(example);
    const generated = secretValues(objects);
    // external-postgres and gitops take every password from an existingSecret.
    if (!['external-postgres', 'gitops'].includes(example)) expect(generated.length).toBeGreaterThan(0);
    expect(leaksOutsideSecrets(objects, generated)).toEqual([]);
  });

  it.each([...EXAMPLES, 'every credential as values'])('%s: no env var with a secret-looking name has a plain value', async (example) => {
    const { objects } = example === 'every credential as values' ? await renderChart({ set: withEveryCredential }) : await renderExample(example);
    for (const { owner, spec } of podSpecs(objects)) {
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
        for (const env of c.env ?? []) {
          if (SECRET_NAME.test(env.name)) {
            expect(env.value, `${owner} ${c.name} ${env.name}`).toBeUndefined();
            expect(env.valueFrom, `${owner} ${c.name} ${env.name}`).toHaveProperty('secretKeyRef');
          }
        }
      }
    }
  });

  it('the database URL in env carries no password (node-postgres reads PGPASSWORD from the Secret)', async () => {
    const { objects } = await renderExample('kind');
    const urls = podSpecs(objects).flatMap(({ spec }) =>
      [...(spec.initContainers ?? []), ...spec.containers].flatMap((c) => (c.env ?? []).filter((e) => e.name === 'DATABASE_URL').map((e) => e.value)),
    );
    expect(urls).toEqual(['postgresql://tracebridge@tracebridge-postgresql:5432/tracebridge', 'postgresql://tracebridge@tracebridge-postgresql:5432/tracebridge']);
  });
});
