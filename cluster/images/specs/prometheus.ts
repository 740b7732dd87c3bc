import { exposed, PATH_ENV, type ImageSpec } from '../spec.ts';
import { Rootfs } from '../rootfs.ts';
import { toolBinary, toolVersion } from '../inputs.ts';

const NOBODY = { uid: 65534, gid: 65534 };

/** A configuration that scrapes Prometheus itself, so the image runs without one mounted. */
const DEFAULT_CONFIG = `global:
  scrape_interval: 15s
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ["localhost:9090"]
`;

/**
 * Prometheus as prom/prometheus: /bin/prometheus as entrypoint, nobody (65534), the TSDB in
 * /prometheus (WORKDIR), the same default CMD. The chart mounts /etc/prometheus and /prometheus.
 */
export const prometheus: ImageSpec = {
  name: 'prometheus',
  summary: 'Prometheus, nobody (65534)',
  tag: () => toolVersion('PROMETHEUS_VERSION'),
  contents() {
    const rootfs = new Rootfs()
      .file('/bin/prometheus', toolBinary('prometheus', 'PROMETHEUS_BIN'), { mode: 0o755 })
      .text('/etc/prometheus/prometheus.yml', DEFAULT_CONFIG)
      .file('/etc/ssl/certs/ca-certificates.crt', '/etc/ssl/certs/ca-certificates.crt', { mode: 0o644 })
      .dir('/prometheus', 0o755, NOBODY)
      .users({ name: 'nobody', uid: 65534, home: '/nonexistent' })
      .tmp();
    return {
      rootfs,
      config: {
        User: '65534:65534',
        Entrypoint: ['/bin/prometheus'],
        Cmd: ['--config.file=/etc/prometheus/prometheus.yml', '--storage.tsdb.path=/prometheus'],
        Env: [PATH_ENV],
        WorkingDir: '/prometheus',
        ExposedPorts: exposed(9090),
      },
    };
  },
};
