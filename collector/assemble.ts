import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse, stringify } from 'yaml';

/**
 * The collector pipeline has one source: config/base.yaml, how the API is scraped
 * (config/scrape/static.yaml or kubernetes.yaml), and one fragment per destination.
 * Assembly is a deep merge where mappings merge, lists append (without repeats) and scalars
 * must agree; pipelines left without an exporter are dropped. The Helm chart and the cdk8s app
 * implement the same rule over the same files, and a parity test holds them to it.
 */

export const DESTINATIONS = ['jaeger', 'grafanaCloud', 'datadog', 'otlp', 'otlpHttp', 'debug'] as const;
export type Destination = (typeof DESTINATIONS)[number];

export type Yaml = string | number | boolean | null | Yaml[] | { [key: string]: Yaml };
type Mapping = Record<string, Yaml>;

const configDir = fileURLToPath(new URL('config/', import.meta.url));

const isMapping = (v: Yaml | undefined): v is Mapping => typeof v === 'object' && v !== null && !Array.isArray(v);

export function mergeFragments(into: Mapping, fragment: Mapping, path = ''): Mapping {
  const out: Mapping = { ...into };
  for (const [key, value] of Object.entries(fragment)) {
    const at = path ? `${path}.${key}` : key;
    const current = out[key];
    if (current === undefined) out[key] = value;
    else if (isMapping(current) && isMapping(value)) out[key] = mergeFragments(current, value, at);
    else if (Array.isArray(current) && Array.isArray(value)) out[key] = [...current, ...value.filter((v) => !current.includes(v))];
    else if (current !== value) throw new Error(`collector config fragments disagree at ${at}`);
  }
  return out;
}

export function readFragment(name: string, dir = configDir): Mapping {
  const parsed = parse(readFileSync(`${dir}${name}.yaml`, 'utf8')) as Yaml;
  if (!isMapping(parsed)) throw new Error(`${name}.yaml is not a mapping`);
  return parsed;
}

/** How the collector finds the API's /metrics: scrape/<name>.yaml. */
export type ApiScrape = 'static' | 'kubernetes';

/** The collector configuration for these destinations (at least one). */
export function assembleCollectorConfig(
  destinations: readonly Destination[],
  options: { scrape?: ApiScrape; dir?: string } = {},
): Mapping {
  const dir = options.dir ?? configDir;
  if (destinations.length === 0) throw new Error('enable at least one destination: ' + DESTINATIONS.join(', '));
  let config = mergeFragments(readFragment('base', dir), readFragment(`scrape/${options.scrape ?? 'static'}`, dir));
  for (const destination of DESTINATIONS.filter((d) => destinations.includes(d))) {
    config = mergeFragments(config, readFragment(`destinations/${destination}`, dir));
  }
  const service = config.service as Mapping;
  const pipelines = service.pipelines as Mapping;
  service.pipelines = Object.fromEntries(
    Object.entries(pipelines).filter(([, p]) => isMapping(p) && Array.isArray(p.exporters) && p.exporters.length > 0),
  );
  return config;
}

export const toYaml = (config: Mapping): string => stringify(config, { lineWidth: 0 });

export function parseDestinations(list: string): Destination[] {
  const names = list.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(DESTINATIONS as readonly string[]).includes(n));
  if (unknown.length > 0) throw new Error(`unknown destination(s) ${unknown.join(', ')}; known: ${DESTINATIONS.join(', ')}`);
  return names as Destination[];
}

// `node collector/assemble.ts jaeger,debug` prints the assembled YAML.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    process.stdout.write(toYaml(assembleCollectorConfig(parseDestinations(process.argv[2] ?? 'jaeger'))));
  } catch (error) {
    process.stderr.write(`assemble: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
}
