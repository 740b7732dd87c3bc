import { exposed, PATH_ENV, type ImageSpec } from '../spec.ts';
import { Rootfs } from '../rootfs.ts';
import { toolBinary, toolVersion } from '../inputs.ts';

/**
 * Jaeger v2 as jaegertracing/jaeger: the binary as entrypoint, UID 10001. The chart passes
 * --config=/conf/config.yaml and mounts /tmp.
 */
export const jaeger: ImageSpec = {
  name: 'jaeger',
  summary: 'Jaeger v2, UID 10001',
  tag: () => toolVersion('JAEGER_VERSION'),
  contents() {
    const rootfs = new Rootfs()
      .file('/cmd/jaeger/jaeger-linux', toolBinary('jaeger', 'JAEGER_BIN'), { mode: 0o755 })
      .file('/etc/ssl/certs/ca-certificates.crt', '/etc/ssl/certs/ca-certificates.crt', { mode: 0o644 })
      .users({ name: 'jaeger', uid: 10001, home: '/' })
      .tmp();
    return {
      rootfs,
      config: {
        User: '10001:10001',
        Entrypoint: ['/cmd/jaeger/jaeger-linux'],
        Env: [PATH_ENV],
        WorkingDir: '/',
        ExposedPorts: exposed(4317, 4318, 16685, 16686, 13133),
      },
    };
  },
};
