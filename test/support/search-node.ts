import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { runProcess, waitForHttp, type ManagedProcess } from './process.ts';
import { toolBinary, type ToolVariable } from './tools.ts';

export type SearchDistribution = 'opensearch' | 'elasticsearch';

const binaries: Record<SearchDistribution, ToolVariable> = { opensearch: 'OPENSEARCH_BIN', elasticsearch: 'ELASTICSEARCH_BIN' };

export interface SearchNode {
  /** http://127.0.0.1:<port> */
  url: string;
  readonly process: ManagedProcess;
  /** SIGTERM, then removes the node's data. */
  stop(): Promise<void>;
}

/**
 * A real single-node OpenSearch or Elasticsearch (collector/build-tools.sh opensearch,
 * elasticsearch) on free loopback ports, with its data in a fresh directory; resolves once the
 * cluster is at least yellow. No security plugin: plain HTTP, and an Authorization header is
 * ignored.
 */
export async function startSearchNode(distribution: SearchDistribution): Promise<SearchNode> {
  const [http, transport] = await Promise.all([freePort(), freePort()]);
  // As root the launcher runs the node as its own user, which must be able to enter this
  // directory to reach path.data and path.logs inside it.
  const dir = mkdtempSync(join(tmpdir(), `tracebridge-${distribution}-`));
  chmodSync(dir, 0o755);
  const node = runProcess(
    toolBinary(binaries[distribution]),
    [`-Ehttp.port=${http}`, `-Etransport.port=${transport}`, `-Epath.data=${join(dir, 'data')}`, `-Epath.logs=${join(dir, 'logs')}`, '-Enode.name=tracebridge-test'],
    {},
  );
  const url = `http://127.0.0.1:${http}`;
  // Java and the node start in 6-11 s on 2 idle cores; more when the cores are busy.
  await waitForHttp(`${url}/_cluster/health?wait_for_status=yellow&timeout=30s`, node, 90_000);
  return {
    url,
    process: node,
    stop: async () => {
      await node.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
