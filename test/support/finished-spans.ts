import { SpanKind } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';

/**
 * Finished SERVER spans straight from the SDK, one per name, under a resource with that
 * service.name, each with an http.route of "/<name>": for tests that control each export call.
 */
export async function finishedSpans(service: string, ...names: string[]): Promise<ReadableSpan[]> {
  const memory = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
  });
  const tracer = provider.getTracer('finished-spans');
  for (const name of names) {
    tracer.startSpan(name, { kind: SpanKind.SERVER, attributes: { 'http.route': `/${name}`, 'http.response.status_code': 200 } }).end();
  }
  await provider.forceFlush();
  const spans = memory.getFinishedSpans();
  await provider.shutdown();
  return spans;
}
