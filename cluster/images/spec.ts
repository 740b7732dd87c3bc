import type { RuntimeConfig } from './oci.ts';
import type { Rootfs } from './rootfs.ts';

/** One image: its name and tag (cheap: no build), and how to assemble it (may build inputs). */
export interface ImageSpec {
  name: string;
  /** What it holds, for progress lines. */
  summary: string;
  tag(): string;
  contents(): Promise<{ config: RuntimeConfig; rootfs: Rootfs }> | { config: RuntimeConfig; rootfs: Rootfs };
}

/**
 * Every image is named under a registry host that cannot exist (.local is reserved for
 * multicast DNS), so a local image never passes for an upstream one and a pull of it fails.
 */
export const REGISTRY = 'tracebridge.local';

export const refOf = (spec: ImageSpec) => `${REGISTRY}/${spec.name}:${spec.tag()}`;

/** ExposedPorts from port numbers ("8000/tcp") or "53/udp". */
export const exposed = (...ports: (number | string)[]) =>
  Object.fromEntries(ports.map((p) => [typeof p === 'number' ? `${p}/tcp` : p, {}])) as Record<string, Record<string, never>>;

export const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
