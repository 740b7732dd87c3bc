import type { K8sObject } from './chart.ts';

/** Every string in a value, with the path it sits at. */
function stringsIn(value: unknown, at: string, out: [string, string][] = []): [string, string][] {
  if (typeof value === 'string') out.push([at, value]);
  else if (Array.isArray(value)) value.forEach((v, i) => stringsIn(v, `${at}[${i}]`, out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) stringsIn(v, `${at}.${k}`, out);
  return out;
}

/** The values the rendered Secrets hold (data decoded, and stringData), short ones left out: they would match anywhere. */
export function secretValues(objects: readonly K8sObject[]): string[] {
  return objects
    .filter((o) => o.kind === 'Secret')
    .flatMap((o) => [
      ...Object.values((o.data ?? {}) as Record<string, string>).map((v) => Buffer.from(v, 'base64').toString()),
      ...Object.values((o.stringData ?? {}) as Record<string, string>),
    ])
    .filter((v) => v.length >= 8);
}

/** Where a needle (plain or base64) appears in an object other than a Secret; label prefixes each place. */
export function leaksOutsideSecrets(objects: readonly K8sObject[], needles: readonly string[], label = ''): string[] {
  const found: string[] = [];
  for (const o of objects.filter((x) => x.kind !== 'Secret')) {
    for (const [at, text] of stringsIn(o, `${label ? `${label}: ` : ''}${o.kind}/${o.metadata.name}`)) {
      for (const needle of needles) {
        if (text.includes(needle) || text.includes(Buffer.from(needle).toString('base64'))) found.push(`${at} contains ${needle.slice(0, 6)}…`);
      }
    }
  }
  return found;
}
