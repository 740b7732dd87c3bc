import type { ImageSpec } from '../spec.ts';
import { api } from './api.ts';
import { busybox } from './busybox.ts';
import { coredns } from './coredns.ts';
import { jaeger } from './jaeger.ts';
import { localPathProvisioner } from './local-path-provisioner.ts';
import { otelcol } from './otelcol.ts';
import { pause } from './pause.ts';
import { postgres } from './postgres.ts';
import { prometheus } from './prometheus.ts';

/** Every image of the local cluster: the chart's workloads, then the cluster's own. */
export const IMAGES: readonly ImageSpec[] = [api, postgres, otelcol, jaeger, prometheus, pause, coredns, localPathProvisioner, busybox];
