import { runProcess, type ManagedProcess } from '../../api/src/dev/processes.ts';

export { repoRoot, runProcess, waitForHttp, type ApiProcess, type ManagedProcess } from '../../api/src/dev/processes.ts';

/** Node flags that start the OpenTelemetry SDK before the app, as the image and `make dev` do. */
export const PRELOAD = ['--import', './api/src/telemetry/preload.ts'];

/** Runs a TypeScript entry point of the API with Node, as `make dev` and the image do. */
export function runNode(
  entry: string,
  args: string[],
  env: Record<string, string>,
  nodeArgs: string[] = [],
): ManagedProcess {
  return runProcess(process.execPath, [...nodeArgs, entry, ...args], env);
}
