import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';

/**
 * A bounded, open-loop load generator on loopback: requests leave on a fixed schedule (rate per
 * second) whatever the server does, so a stall shows as latency and as requests in flight
 * rather than as a quietly lower rate (no coordinated omission). Each request is recorded with
 * its timing, status, Retry-After and the trace id it was sent with (a sampled `traceparent`),
 * so a drill can ask which finished requests' traces reached a backend.
 *
 * autocannon (drills/pool-exhaustion) is the closed-loop hammer; this one is for drills that
 * need to know what happened to each request.
 */

export interface RequestRecord {
  path: string;
  /** Epoch ms (sub-ms precision) when the request was sent, and when it settled. */
  start: number;
  end: number;
  latencyMs: number;
  status?: number;
  retryAfter?: string;
  /** Network error code (ECONNREFUSED, ECONNRESET, ...) or 'timeout'; then status is undefined. */
  error?: string;
  /** 32 hex characters, sent as a sampled traceparent. */
  traceId: string;
  /** Sent on a kept-alive connection (Node's reusedSocket), not a new one. */
  reused?: boolean;
}

export interface LoadOptions {
  base: string;
  ratePerS: number;
  /** The path of request i (default: a fixed path). */
  path: string | ((i: number) => string);
  method?: string;
  body?: (i: number) => unknown;
  /** A request taking longer is abandoned and recorded as error 'timeout'. */
  timeoutMs?: number;
  /** Sockets kept alive to the server (keep-alive, as a load balancer would). */
  maxSockets?: number;
}

export interface Load {
  readonly records: readonly RequestRecord[];
  /** Requests sent and not settled yet. */
  readonly inFlight: number;
  /** Stops sending and resolves once every request in flight has settled. */
  stop(): Promise<RequestRecord[]>;
}

export const now = (): number => performance.timeOrigin + performance.now();

export function startLoad(options: LoadOptions): Load {
  const agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 32 });
  const url = new URL(options.base);
  const records: RequestRecord[] = [];
  const pending = new Set<Promise<void>>();
  const timeoutMs = options.timeoutMs ?? 10_000;
  const pathOf = typeof options.path === 'string' ? () => options.path as string : options.path;
  let sent = 0;
  const startedAt = now();

  const fire = (i: number): void => {
    const traceId = randomBytes(16).toString('hex');
    const path = pathOf(i);
    const payload = options.body ? JSON.stringify(options.body(i)) : undefined;
    const start = now();
    const done = new Promise<void>((resolve) => {
      let settled = false;
      const settle = (fields: Partial<RequestRecord>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const end = now();
        records.push({ path, start, end, latencyMs: end - start, traceId, reused: req.reusedSocket, ...fields });
        resolve();
      };
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path,
          method: options.method ?? 'GET',
          agent,
          headers: {
            traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
            ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            const retryAfter = res.headers['retry-after'];
            settle({ status: res.statusCode, ...(retryAfter === undefined ? {} : { retryAfter }) });
          });
          res.on('error', (error: NodeJS.ErrnoException) => settle({ error: error.code ?? error.message }));
        },
      );
      const timer = setTimeout(() => {
        settle({ error: 'timeout' });
        req.destroy();
      }, timeoutMs);
      req.on('error', (error: NodeJS.ErrnoException) => settle({ error: error.code ?? error.message }));
      req.end(payload);
    });
    pending.add(done);
    void done.then(() => pending.delete(done));
  };

  // A 5 ms tick sends what the schedule says is due: the rate holds without one timer per request.
  const tick = setInterval(() => {
    const due = Math.floor(((now() - startedAt) / 1000) * options.ratePerS);
    while (sent < due) fire(sent++);
  }, 5);

  return {
    records,
    get inFlight() {
      return pending.size;
    },
    async stop() {
      clearInterval(tick);
      while (pending.size > 0) await Promise.all([...pending]);
      agent.destroy();
      return records;
    },
  };
}

export interface LoadStats {
  requests: number;
  ok: number;
  /** Not 2xx, or no response at all. */
  failed: number;
  statuses: Record<string, number>;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

/** Stats of the requests sent in [from, to) (epoch ms). */
export function statsOf(records: readonly RequestRecord[], from = -Infinity, to = Infinity): LoadStats {
  const window = records.filter((r) => r.start >= from && r.start < to);
  const latencies = window.map((r) => r.latencyMs).sort((a, b) => a - b);
  const statuses: Record<string, number> = {};
  for (const r of window) {
    const key = r.status === undefined ? (r.error ?? 'error') : String(r.status);
    statuses[key] = (statuses[key] ?? 0) + 1;
  }
  const ok = window.filter((r) => r.status !== undefined && r.status >= 200 && r.status < 300).length;
  return {
    requests: window.length,
    ok,
    failed: window.length - ok,
    statuses,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? 0,
  };
}

export const ms = (value: number): string => `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`;
export const statusText = (statuses: Record<string, number>): string =>
  Object.entries(statuses)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}×${v}`)
    .join(' ');
