import { exposed, PATH_ENV, type ImageSpec } from '../spec.ts';
import { Rootfs } from '../rootfs.ts';
import { toolBinary, toolVersion } from '../inputs.ts';

/**
 * security.capability = cap_net_bind_service+ep (struct vfs_cap_data, revision 2): as in the
 * upstream image, the non-root binary may bind port 53 when the pod adds NET_BIND_SERVICE.
 */
const NET_BIND_SERVICE_EP = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x00, 0x04, 0x00, 0x00, ...Array<number>(12).fill(0)]);

/** CoreDNS (the cluster DNS add-on) as coredns/coredns: /coredns as entrypoint, UID 65532. */
export const coredns: ImageSpec = {
  name: 'coredns',
  summary: 'CoreDNS, UID 65532',
  tag: () => toolVersion('COREDNS_VERSION'),
  contents() {
    const rootfs = new Rootfs()
      .file('/coredns', toolBinary('coredns', 'COREDNS_BIN'), { mode: 0o755, xattrs: { 'security.capability': NET_BIND_SERVICE_EP } })
      .file('/etc/ssl/certs/ca-certificates.crt', '/etc/ssl/certs/ca-certificates.crt', { mode: 0o644 })
      .users({ name: 'nonroot', uid: 65532, home: '/home/nonroot' });
    return {
      rootfs,
      config: { User: '65532:65532', Entrypoint: ['/coredns'], Env: [PATH_ENV], WorkingDir: '/', ExposedPorts: exposed('53/tcp', '53/udp') },
    };
  },
};
