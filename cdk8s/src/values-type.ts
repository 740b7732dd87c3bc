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
 * hatches): json-schema-to-typescript would take one or the other, so it becomes the
 * intersection of the shared type (declared once) and a closed object of its own properties.
 */
function withSharedProperties(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withSharedProperties);
  if (typeof schema !== 'object' || schema === null) return schema;
  const node = Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, withSharedProperties(value)])) as Node;
  if (!node.$ref || !node.properties) return node;
  const { $ref, unevaluatedProperties, description, ...rest } = node;
  return { description, allOf: [{ $ref }, { ...rest, additionalProperties: unevaluatedProperties ?? rest.additionalProperties }] };
}

/** The shared sets are closed too: a key neither they nor the component define is refused. */
function closedDefs(defs: Record<string, Node>): Record<string, Node> {
  return Object.fromEntries(Object.entries(defs).map(([name, def]) => [name, def.properties ? { additionalProperties: false, ...def } : def]));
}

const BANNER = `/* Generated from charts/tracebridge/values.schema.json by cdk8s/src/values-type.ts: do not edit.
 * Regenerate with \`node cdk8s/src/values-type.ts\`. */`;

export async function valuesTypeSource(): Promise<string> {
  const parsed = JSON.parse(readFileSync(schemaFile, 'utf8')) as Node & { $defs: Record<string, Node> };
  const open = withoutRules(parsed) as Node & { $defs: Record<string, Node> };
  const schema = withSharedProperties({ ...open, $defs: closedDefs(open.$defs) }) as JSONSchema;
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
