/**
 * Started with `node --import ./api/src/telemetry/preload.ts api/src/server.ts`.
 *
 * ESM modules are only patchable through a loader hook registered before they are imported,
 * so this registers import-in-the-middle's hook with module.register(), then starts the SDK,
 * then waits until the loader thread has acknowledged every module to hook. Only after that
 * does Node import the app (`--import hook.mjs` alone would leave ESM unpatched).
 */
import { register } from 'node:module';
import { createAddHookMessageChannel } from 'import-in-the-middle';

const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
// module.register (not the newer registerHooks): with import-in-the-middle's message channel
// only the modules an instrumentation asked for are wrapped; its synchronous registerHooks
// variant wraps every module unless given an include list of our own to keep in sync.
// eslint-disable-next-line @typescript-eslint/no-deprecated
register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);

// The SDK's own batch-processor and exporter metrics (queue size, dropped spans) are how an
// operator sees export health; opt in unless the operator decided otherwise.
process.env.OTEL_NODE_EXPERIMENTAL_SDK_METRICS ??= 'true';

const { ConfigError, loadTelemetryConfig } = await import('../config.ts');
const { startTelemetry } = await import('./sdk.ts');
try {
  startTelemetry(loadTelemetryConfig());
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`tracebridge-api: ${error.message}\n`);
  process.exit(1);
}
await waitForAllMessagesAcknowledged();
