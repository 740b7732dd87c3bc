import { createServer } from 'node:http';
import { gunzipSync, inflateSync } from 'node:zlib';
import type { Yaml } from '../../collector/fragments.ts';
import { freePort } from './ports.ts';

/**
 * The Datadog intake as a loopback HTTP server recording what the real datadog exporter sends
 * (bodies decompressed), and the fragment that points the shipped pipeline's exporter at it.
 */

export interface IntakeRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface DatadogIntake {
  url: string;
  received: IntakeRequest[];
  /** A fragment for startCollector's overrides: the datadog exporter sends here. */
  override: Record<string, Yaml>;
  close(): Promise<void>;
}

function decode(body: Buffer, encoding: string | undefined): Buffer {
  try {
    if (encoding === 'gzip') return gunzipSync(body);
    if (encoding === 'deflate') return inflateSync(body);
  } catch {
    // kept as sent
  }
  return body;
}

export async function startDatadogIntake(): Promise<DatadogIntake> {
  const received: IntakeRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0] ?? '';
      const encoding = req.headers['content-encoding'];
      received.push({ method: req.method ?? '', path, headers: req.headers, body: decode(Buffer.concat(chunks), typeof encoding === 'string' ? encoding : undefined) });
      res.writeHead(path.includes('validate') ? 200 : 202, { 'content-type': 'application/json' });
      res.end(path.includes('validate') ? '{"valid":true}' : '{}');
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    received,
    override: { exporters: { datadog: { traces: { endpoint: url, trace_buffer: 10 }, metrics: { endpoint: url } } } },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
