import { PATH_ENV, type ImageSpec } from '../spec.ts';
import { Rootfs } from '../rootfs.ts';
import { toolBinary, toolVersion } from '../inputs.ts';

/** The local cluster's PersistentVolume provisioner (static binary), UID 65532. */
export const localPathProvisioner: ImageSpec = {
  name: 'local-path-provisioner',
  summary: 'local-path-provisioner, UID 65532',
  tag: () => toolVersion('LOCAL_PATH_PROVISIONER_VERSION'),
  contents() {
    const rootfs = new Rootfs()
      .file('/usr/bin/local-path-provisioner', toolBinary('local-path-provisioner', 'LOCAL_PATH_PROVISIONER_BIN'), { mode: 0o755 })
      .users({ name: 'nonroot', uid: 65532, home: '/home/nonroot' })
      .tmp();
    return { rootfs, config: { User: '65532:65532', Entrypoint: ['/usr/bin/local-path-provisioner'], Env: [PATH_ENV], WorkingDir: '/' } };
  },
};
