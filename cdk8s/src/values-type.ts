import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compile, type JSONSchema } from 'json-schema-to-typescript';

/**
 * The props type of the cdk8s app, generated from the chart's values.schema.json:
 *
 *   node cdk8s/src/values-type.ts     (rewrites cdk8s/src/values.generated.ts)
 *
 * test/cdk8s/values-type.test.ts regenerates it and fails when the checked-in file differs, so
 * a values key is added to the schema and the template only.
 */

export const schemaFile = fileURLToPath(new URL('../../charts/tracebridge/values.schema.json', import.meta.url));
export const generatedFile = fileURLToPath(new URL('./values.generated.ts', import.meta.url));

/**
 * Keywords the schema uses only for cross-field rules (its type unions are oneOf): they refuse
 * combinations and add no property, so the type is generated without them.
 */
const RULE_KEYWORDS = new Set(['allOf', 'anyOf', 'if', 'then', 'else', 'not', 'dependentRequired', 'dependentSchemas']);

function withoutRules(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutRules);
  if (typeof schema !== 'object' || schema === null) return schema;
  return Object.fromEntries(Object.entries(schema).filter(([key]) => !RULE_KEYWORDS.has(key)).map(([key, value]) => [key, withoutRules(value)]));
}

type Node = { $ref?: string; properties?: Record<string, unknown>; unevaluatedProperties?: unknown; additionalProperties?: unknown; [key: string]: unknown };

/**
 * A component that has properties of its own and a $ref to a shared set ($defs/pod, the escape
 * hatches): json-schema-to-typescript would take one or the other, so the shared properties are
 * copied in, and the closed object (unevaluatedProperties: false) becomes additionalProperties.
 */
function withSharedProperties(schema: unknown, defs: Record<string, Node>): unknown {
  if (Array.isArray(schema)) return schema.map((s) => withSharedProperties(s, defs));
  if (typeof schema !== 'object' || schema === null) return schema;
  const node = Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, withSharedProperties(value, defs)])) as Node;
  if (!node.$ref || !node.properties) return node;
  const { $ref, unevaluatedProperties, ...rest } = node;
  const shared = defs[$ref.replace('#/$defs/', '')];
  if (!shared) throw new Error(`${$ref}: no such entry in the schema's $defs`);
  return { ...rest, properties: { ...rest.properties, ...shared.properties }, additionalProperties: unevaluatedProperties ?? rest.additionalProperties };
}

const BANNER = `/* Generated from charts/tracebridge/values.schema.json by cdk8s/src/values-type.ts: do not edit.
 * Regenerate with \`node cdk8s/src/values-type.ts\`. */`;

export async function valuesTypeSource(): Promise<string> {
  const parsed = JSON.parse(readFileSync(schemaFile, 'utf8')) as Node & { $defs: Record<string, Node> };
  const schema = withoutRules(withSharedProperties(parsed, parsed.$defs)) as JSONSchema;
  delete schema.title;
  return compile(schema, 'TracebridgeValues', {
    bannerComment: BANNER,
    format: true,
    style: { singleQuote: true, printWidth: 140 },
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  writeFileSync(generatedFile, await valuesTypeSource());
  process.stdout.write(`wrote ${generatedFile}\n`);
}
