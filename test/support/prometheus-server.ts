import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { runProcess, waitForHttp, type ManagedProcess } from './process.ts';
import { toolBinary } from './tools.ts';

/**
 * One scrape target: its job name and the `host:port` it scrapes at /metrics. Targets of the same
 * job share one scrape config; `labels` are the target's own (`__meta_*` ones stand in for what
 * Kubernetes discovery would give), `relabelConfigs` the job's (the same on each of its targets).
 */
export interface ScrapeTarget {
  job: string;
  target: string;
  labels?: Record<string, string>;
  relabelConfigs?: unknown[];
}

/** One element of an instant-query result (`resultType: vector`). */
export interface PromSeries {
  metric: Record<string, string>;
  value: [number, string];
}

export interface PrometheusQueryResponse {
  status: 'success' | 'error';
  errorType?: string;
  error?: string;
  warnings?: string[];
  data?: { resultType: string; result: PromSeries[] | [number, string] };
}

export interface Prometheus {
  /** http://127.0.0.1:<port> */
  url: string;
  readonly process: ManagedProcess;
  /** An instant query through the HTTP API (`/api/v1/query`), evaluated now. */
  query(expr: string): Promise<PrometheusQueryResponse>;
  stop(): Promise<void>;
}

export const prometheusBinary = () => toolBinary('PROMETHEUS_BIN');

/** The configuration file's text (YAML is a superset of JSON). */
export function prometheusConfig(targets: ScrapeTarget[], scrapeIntervalS: number): string {
  const config = {
    global: { scrape_interval: `${scrapeIntervalS}s`, scrape_timeout: `${scrapeIntervalS}s`, evaluation_interval: `${scrapeIntervalS}s` },
    scrape_configs: [...new Set(targets.map((t) => t.job))].map((job) => {
      const ofJob = targets.filter((t) => t.job === job);
      const relabel = ofJob[0]!.relabelConfigs;
      if (ofJob.some((t) => JSON.stringify(t.relabelConfigs) !== JSON.stringify(relabel))) throw new Error(`job ${job}: its targets have different relabelConfigs`);
      return {
        job_name: job,
        static_configs: ofJob.map(({ target, labels }) => ({ targets: [target], ...(labels && { labels }) })),
        ...(relabel && { relabel_configs: relabel }),
      };
    }),
  };
  return JSON.stringify(config, null, 2);
}

/**
 * A real Prometheus on loopback (a free port unless `port` is given, e.g. one chosen earlier so
 * another process can be told the address first), with a throwaway TSDB, scraping `targets`
 * every `scrapeIntervalS` seconds (1 by default).
 */
export async function startPrometheus(
  targets: ScrapeTarget[],
  options: { scrapeIntervalS?: number; port?: number } = {},
): Promise<Prometheus> {
  const scrapeIntervalS = options.scrapeIntervalS ?? 1;
  const dir = await mkdtemp(join(tmpdir(), 'tracebridge-prometheus-'));
  const configPath = join(dir, 'prometheus.yml');
  writeFileSync(configPath, prometheusConfig(targets, scrapeIntervalS));
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const prometheus = runProcess(prometheusBinary(), [
    `--config.file=${configPath}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ], {});
  try {
    await waitForHttp(`${url}/-/ready`, prometheus);
  } catch (error) {
    await prometheus.stop();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  const query = async (expr: string): Promise<PrometheusQueryResponse> => {
    const response = await fetch(`${url}/api/v1/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query: expr }).toString(),
    });
    return (await response.json()) as PrometheusQueryResponse;
  };

  return {
    url,
    process: prometheus,
    query,
    stop: async () => {
      await prometheus.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
