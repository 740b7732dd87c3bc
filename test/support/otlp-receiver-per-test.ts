import { afterEach, beforeEach } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from './otlp-receiver.ts';

/**
 * For a test file: a fresh receiver before each test (`each.receiver`), closed after it, once
 * what the test registered in `each.cleanups` (exporters, providers) has run, last first.
 */
export function otlpReceiverPerTest(): { receiver: OtlpReceiver; cleanups: Array<() => Promise<void>> } {
  const each = { receiver: undefined as unknown as OtlpReceiver, cleanups: [] as Array<() => Promise<void>> };
  beforeEach(async () => {
    each.receiver = await startOtlpReceiver();
  });
  afterEach(async () => {
    for (const cleanup of each.cleanups.splice(0).reverse()) await cleanup();
    await each.receiver.close();
  });
  return each;
}
