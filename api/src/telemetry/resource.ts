import { hostname } from 'node:os';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { TelemetryConfig } from '../config.ts';

/** service.*, deployment.environment.name and the pod's k8s.* attributes (from the downward API). */
export function serviceResource(config: TelemetryConfig): Resource {
  const { service, kubernetes } = config;
  const attributes: Record<string, string> = {
    'service.name': service.name,
    'service.version': service.version,
    'deployment.environment.name': service.environment,
    'host.name': hostname(),
  };
  const optional: Record<string, string | undefined> = {
    'service.instance.id': service.instanceId,
    'k8s.pod.name': kubernetes.podName,
    'k8s.pod.uid': kubernetes.podUid,
    'k8s.namespace.name': kubernetes.namespace,
    'k8s.node.name': kubernetes.nodeName,
  };
  for (const [key, value] of Object.entries(optional)) if (value) attributes[key] = value;
  return resourceFromAttributes(attributes);
}
