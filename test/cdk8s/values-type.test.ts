import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { chartDir } from '../../cdk8s/src/chart.ts';
import { generatedFile, valuesTypeSource } from '../../cdk8s/src/values-type.ts';

/**
 * The cdk8s props type is generated from values.schema.json (json-schema-to-typescript): the
 * checked-in cdk8s/src/values.generated.ts must be what the schema gives today.
 */

describe('cdk8s/src/values.generated.ts', () => {
  it('is what values.schema.json generates (run `node cdk8s/src/values-type.ts` after a schema change)', async () => {
    expect(readFileSync(generatedFile, 'utf8')).toBe(await valuesTypeSource());
  });

  it('types every top-level key of values.yaml, with the schema\'s descriptions as doc comments', () => {
    const source = readFileSync(generatedFile, 'utf8');
    const body = source.slice(source.indexOf('export interface TracebridgeValues {'));
    for (const key of Object.keys(parse(readFileSync(`${chartDir}/values.yaml`, 'utf8')) as object)) expect(body, key).toMatch(new RegExp(`\\n  ${key}\\?: `));
    expect(body).toContain("logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';");
    expect(body).toContain('Share of new traces recorded (parentbased_traceidratio).');
  });
});
