import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The collector configuration is YAML fragments the collector merges itself: config/base.yaml
 * (the intake), how the API is scraped (config/scrape/static.yaml or kubernetes.yaml), and one
 * config/destinations/<name>.yaml per destination, each passed as its own --config. Fragments
 * only add keys, so the collector's merge (mappings merge, lists are replaced) is the whole
 * rule. This module only names the files; `make up`, the tests and the chart pass the same.
 */

export type Yaml = string | number | boolean | null | Yaml[] | { [key: string]: Yaml };

export const configDir = fileURLToPath(new URL('config/', import.meta.url));

/** The destinations: one fragment each in config/destinations/. */
export const DESTINATIONS: readonly string[] = readdirSync(join(configDir, 'destinations'))
  .filter((file) => file.endsWith('.yaml'))
  .map((file) => file.slice(0, -'.yaml'.length))
  .sort();
export type Destination = string;

/** How the collector finds the API's /metrics: config/scrape/<name>.yaml. */
export type ApiScrape = 'static' | 'kubernetes';

/** The fragments, relative to config/, for these destinations (at least one), in --config order. */
export function fragmentsFor(destinations: readonly Destination[], scrape: ApiScrape = 'static'): string[] {
  if (destinations.length === 0) throw new Error(`enable at least one destination: ${DESTINATIONS.join(', ')}`);
  const unknown = destinations.filter((d) => !DESTINATIONS.includes(d));
  if (unknown.length > 0) throw new Error(`unknown destination(s) ${unknown.join(', ')}; known: ${DESTINATIONS.join(', ')}`);
  return ['base.yaml', `scrape/${scrape}.yaml`, ...[...new Set(destinations)].map((d) => `destinations/${d}.yaml`)];
}

/** A tier of the agent-gateway topology: config/topology/<tier>.yaml. */
export type Tier = 'agent' | 'gateway';

/**
 * The fragments of one tier of the agent-gateway topology: an agent scrapes (its node's pods)
 * and takes no destination, its traces and metrics go to the gateways; a gateway takes the
 * destinations and scrapes nothing. Each ends with its topology/<tier>.yaml.
 */
export function tierFragmentsFor(tier: Tier, destinations: readonly Destination[], scrape: ApiScrape = 'kubernetes'): string[] {
  const all = fragmentsFor(destinations, scrape);
  const kept = tier === 'agent' ? all.filter((f) => !f.startsWith('destinations/')) : all.filter((f) => !f.startsWith('scrape/'));
  return [...kept, `topology/${tier}.yaml`];
}

/** The collector's arguments for these fragment files: one --config each. */
export const configArgs = (files: readonly string[]): string[] => files.flatMap((file) => ['--config', file]);

/** The collector's arguments for these destinations, with the files under config/. */
export const collectorArgs = (destinations: readonly Destination[], scrape: ApiScrape = 'static'): string[] =>
  configArgs(fragmentsFor(destinations, scrape).map((fragment) => join(configDir, fragment)));

/** DESTINATIONS=jaeger,debug as `make up` takes it. */
export function parseDestinations(list: string): Destination[] {
  const names = list.split(',').map((s) => s.trim()).filter(Boolean);
  fragmentsFor(names);
  return names;
}
