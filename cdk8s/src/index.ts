/**
 * tracebridge as a cdk8s construct: the objects of the Helm chart charts/tracebridge, rendered
 * by helm through cdk8s' Helm construct, with typed values (generated from values.schema.json)
 * and typed accessors. See cdk8s/README.md.
 */
export {
  GENERATED_PASSWORD_ANNOTATION,
  TracebridgeChart,
  TracebridgeStack,
  ValuesError,
  type DeepPartial,
  type SecretKeyReference,
  type TracebridgeStackProps,
  type ValuesInput,
} from './stack.ts';
export type * from './values.generated.ts';
export { chartDefaults, chartDir, helmBinary } from './chart.ts';
export { synthesize, type SynthOptions, type SynthResult } from './main.ts';
