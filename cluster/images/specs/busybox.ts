import { execFileSync } from 'node:child_process';
import { PATH_ENV, type ImageSpec } from '../spec.ts';
import { Rootfs } from '../rootfs.ts';

const BUSYBOX = '/bin/busybox';
/** What local-path-provisioner's setup and teardown scripts run. */
const APPLETS = ['sh', 'mkdir', 'rm', 'chmod', 'ls', 'cat'];

/** Debian's busybox-static version (1:1.35.0-4+b3 → 1.35.0). */
function busyboxVersion(): string {
  const version = execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'busybox-static'], { encoding: 'utf8' });
  const match = /^(?:\d+:)?(\d+\.\d+\.\d+)/.exec(version);
  if (!match?.[1]) throw new Error(`busybox-static ${version}: no upstream version (apt-get install busybox-static)`);
  return match[1];
}

/** The helper pod of local-path-provisioner (creates and removes volume directories), as root. */
export const busybox: ImageSpec = {
  name: 'busybox',
  summary: "Debian's static busybox, for local-path-provisioner's helper pod",
  tag: busyboxVersion,
  contents() {
    const rootfs = new Rootfs().file('/bin/busybox', BUSYBOX, { mode: 0o755 }).tmp();
    for (const applet of APPLETS) rootfs.symlink(`/bin/${applet}`, 'busybox');
    return { rootfs, config: { User: '0:0', Entrypoint: ['/bin/sh'], Env: [PATH_ENV], WorkingDir: '/' } };
  },
};
