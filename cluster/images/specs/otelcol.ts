import { exposed, PATH_ENV, type ImageSpec } from '../spec.ts';
import { Rootfs } from '../rootfs.ts';
import { toolBinary, toolVersion } from '../inputs.ts';

/**
 * Our collector distribution (collector/builder-config.yaml), laid out like
 * otel/opentelemetry-collector-contrib: the binary as entrypoint, UID 10001, CA certificates
 * for the TLS destinations. The chart passes --config=/conf/config.yaml.
 */
export const otelcol: ImageSpec = {
  name: 'otelcol',
  summary: 'the collector (otelcol-tracebridge), UID 10001',
  tag: () => toolVersion('OTELCOL_VERSION'),
  contents() {
    const rootfs = new Rootfs()
      .file('/otelcol-tracebridge', toolBinary('otelcol', 'OTELCOL_BIN'), { mode: 0o755 })
      .file('/etc/ssl/certs/ca-certificates.crt', '/etc/ssl/certs/ca-certificates.crt', { mode: 0o644 })
      .users({ name: 'otel', uid: 10001, home: '/' })
      .tmp();
    return {
      rootfs,
      config: { User: '10001:10001', Entrypoint: ['/otelcol-tracebridge'], Env: [PATH_ENV], WorkingDir: '/', ExposedPorts: exposed(4317, 4318, 8888, 13133) },
    };
  },
};
