/* Generated from charts/tracebridge/values.schema.json by cdk8s/src/values-type.ts: do not edit.
 * Regenerate with `node cdk8s/src/values-type.ts`. */

export type Quantity = string | number;

export interface TracebridgeValues {
  /**
   * Helm's global values (unused by this chart).
   */
  global?: {
    [k: string]: unknown;
  };
  /**
   * Overrides the chart name in resource names.
   */
  nameOverride?: string;
  /**
   * Overrides the full resource name prefix.
   */
  fullnameOverride?: string;
  /**
   * Labels added to every object.
   */
  commonLabels?: {
    [k: string]: string;
  };
  /**
   * Secrets for pulling private images.
   */
  imagePullSecrets?: {
    /**
     * Secret name.
     */
    name: string;
  }[];
  /**
   * The traced users/posts API.
   */
  api?: {
    /**
     * The API image (also runs the migrations and `helm test`).
     */
    image?: {
      /**
       * Image repository.
       */
      repository: string;
      /**
       * Image tag; empty: the chart's appVersion.
       */
      tag: string;
      /**
       * Image pull policy.
       */
      pullPolicy: 'Always' | 'IfNotPresent' | 'Never';
    };
    /**
     * API replicas (ignored when autoscaling is enabled).
     */
    replicas?: number;
    /**
     * deployment.environment.name on every span.
     */
    environment?: string;
    /**
     * pino log level.
     */
    logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
    /**
     * Share of new traces recorded (parentbased_traceidratio).
     */
    samplingRatio?: number;
    /**
     * ORM-level spans (query, relationship, session); driver spans stay.
     */
    ormTracing?: boolean;
    /**
     * Lazy relationship loads of one kind in one request that count as N+1.
     */
    nPlusOneThreshold?: number;
    /**
     * Database connection pool.
     */
    pool?: {
      /**
       * Pool size (DB_POOL_MAX).
       */
      max: number;
      /**
       * Wait for a free connection before answering 503 (DB_POOL_ACQUIRE_TIMEOUT_MS).
       */
      acquireTimeoutMs: number;
      /**
       * PostgreSQL statement_timeout (DB_STATEMENT_TIMEOUT_MS).
       */
      statementTimeoutMs: number;
    };
    /**
     * Node.js flags (NODE_OPTIONS). The default fixes V8's young generation at 8 MB semi-spaces: sized from a 256Mi-512Mi limit it would get 2 MB and spend about 1.7x the CPU per request in scavenges. Empty: Node's defaults.
     */
    nodeOptions?: string;
    /**
     * Extra environment variables (Kubernetes EnvVar objects). Use valueFrom.secretKeyRef for anything secret.
     */
    extraEnv?: {
      name: string;
      [k: string]: unknown;
    }[];
    resources?: Resources;
    /**
     * The API Service.
     */
    service?: {
      /**
       * Service type.
       */
      type: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
      /**
       * Service port of the API.
       */
      port: number;
    };
    /**
     * Prometheus metrics port of the API (/metrics).
     */
    metricsPort?: number;
    ingress?: Ingress;
    httpRoute?: HttpRoute;
    /**
     * Database migrations.
     */
    migrations?: {
      /**
       * Run migrations in an init container before the API starts.
       */
      enabled: boolean;
    };
    /**
     * HorizontalPodAutoscaler.
     */
    autoscaling?: {
      /**
       * Create a HorizontalPodAutoscaler.
       */
      enabled: boolean;
      /**
       * Minimum replicas.
       */
      minReplicas: number;
      /**
       * Maximum replicas.
       */
      maxReplicas: number;
      /**
       * Target CPU utilization.
       */
      targetCPUUtilizationPercentage: number;
    };
    /**
     * PodDisruptionBudget.
     */
    podDisruptionBudget?: {
      /**
       * Create a PodDisruptionBudget.
       */
      enabled: boolean;
      /**
       * Pods that must stay available.
       */
      minAvailable: number | string;
    };
    /**
     * Node labels the pods must match.
     */
    nodeSelector?: {
      [k: string]: string;
    };
    /**
     * Tolerations of the pods.
     */
    tolerations?: {
      [k: string]: unknown;
    }[];
    /**
     * Affinity of the pods.
     */
    affinity?: {
      [k: string]: unknown;
    };
    /**
     * Annotations on the pods.
     */
    podAnnotations?: {
      [k: string]: string;
    };
  };
  /**
   * In-cluster PostgreSQL.
   */
  postgresql?: {
    /**
     * Deploy PostgreSQL in the cluster (for kind and development); false: use externalDatabase.
     */
    enabled?: boolean;
    image?: Image;
    /**
     * Database name.
     */
    database?: string;
    /**
     * Database user.
     */
    username?: string;
    /**
     * Secret with the password; empty: generated at install and kept across upgrades.
     */
    existingSecret?: string;
    /**
     * Key of the password in the Secret.
     */
    passwordKey?: string;
    /**
     * The data volume.
     */
    persistence?: {
      /**
       * Volume size.
       */
      size: string;
      /**
       * StorageClass; empty: the cluster's default.
       */
      storageClass: string;
    };
    resources?: Resources;
  };
  /**
   * An external PostgreSQL, used when postgresql.enabled=false.
   */
  externalDatabase?: {
    /**
     * Host name of the external PostgreSQL.
     */
    host?: string;
    /**
     * Port.
     */
    port?: number;
    /**
     * Database name.
     */
    database?: string;
    /**
     * Database user.
     */
    username?: string;
    /**
     * Secret with the password (required when postgresql.enabled=false).
     */
    existingSecret?: string;
    /**
     * Key of the password in the Secret.
     */
    passwordKey?: string;
    /**
     * Older switch: true is sslmode verify-full, false disable (when sslmode is empty).
     */
    ssl?: boolean;
    /**
     * libpq's sslmode: disable, require (encrypted, unverified), verify-ca, verify-full; empty: from ssl.
     */
    sslmode?: '' | 'disable' | 'require' | 'verify-ca' | 'verify-full';
    /**
     * TLS to the database.
     */
    tls?: {
      ca: CaSource;
    };
  };
  /**
   * Where telemetry goes: any number at once.
   */
  destinations?: {
    /**
     * Jaeger v2.
     */
    jaeger?: {
      /**
       * Send traces to Jaeger over OTLP/gRPC.
       */
      enabled: boolean;
      /**
       * host:port of Jaeger's OTLP/gRPC receiver; empty: the in-cluster Jaeger.
       */
      endpoint: string;
      /**
       * Plaintext, no TLS (the in-cluster Jaeger); false: TLS.
       */
      insecure?: boolean;
      tls?: DestinationTls;
    };
    /**
     * Grafana Cloud.
     */
    grafanaCloud?: {
      /**
       * Send traces and metrics to Grafana Cloud (OTLP/HTTP, basic auth).
       */
      enabled: boolean;
      /**
       * The stack's OTLP gateway URL, https://otlp-gateway-<zone>.grafana.net/otlp.
       */
      endpoint: string;
      /**
       * Secret with the instance id and access-policy token.
       */
      existingSecret: string;
      /**
       * Key of the instance id.
       */
      instanceIdKey: string;
      /**
       * Key of the access-policy token.
       */
      apiTokenKey: string;
      tls?: DestinationTls;
    };
    /**
     * Datadog.
     */
    datadog?: {
      /**
       * Send traces, APM stats and metrics to Datadog.
       */
      enabled: boolean;
      /**
       * Datadog site.
       */
      site:
        | 'datadoghq.com'
        | 'us3.datadoghq.com'
        | 'us5.datadoghq.com'
        | 'datadoghq.eu'
        | 'ap1.datadoghq.com'
        | 'ap2.datadoghq.com'
        | 'ddog-gov.com';
      /**
       * Secret with the API key.
       */
      existingSecret: string;
      /**
       * Key of the API key.
       */
      apiKeyKey: string;
      /**
       * TLS to Datadog (the exporter takes no CA or client certificate).
       */
      tls?: {
        /**
         * Skip verifying the server's certificate (explicit only; NOTES warn).
         */
        insecureSkipVerify: boolean;
      };
    };
    /**
     * A generic OTLP backend.
     */
    otlp?: {
      /**
       * Send traces and metrics to any OTLP backend.
       */
      enabled: boolean;
      /**
       * host:port (grpc) or base URL (http).
       */
      endpoint: string;
      /**
       * OTLP transport.
       */
      protocol: 'grpc' | 'http';
      /**
       * Plaintext gRPC, for in-cluster endpoints only.
       */
      insecure: boolean;
      /**
       * Optional Secret with the Authorization header value.
       */
      existingSecret: string;
      /**
       * Key of the Authorization header value.
       */
      authorizationKey: string;
      tls?: DestinationTls;
    };
    /**
     * The debug exporter.
     */
    debug?: {
      /**
       * Log counts of what passes through (debug exporter).
       */
      enabled: boolean;
      /**
       * Debug exporter verbosity.
       */
      verbosity: 'basic' | 'normal' | 'detailed';
    };
  };
  /**
   * A chart-created Secret for destination credentials; off by default.
   */
  destinationCredentials?: {
    /**
     * Create a Secret from the values below (throwaway clusters only).
     */
    create?: boolean;
    grafanaCloud?: {
      /**
       * Grafana Cloud instance id.
       */
      instanceId?: string | number;
      /**
       * Grafana Cloud access-policy token.
       */
      apiToken?: string;
    };
    datadog?: {
      /**
       * Datadog API key.
       */
      apiKey?: string;
    };
    otlp?: {
      /**
       * Authorization header value of the otlp destination.
       */
      authorization?: string;
    };
  };
  /**
   * The OpenTelemetry Collector.
   */
  collector?: {
    image?: Image;
    /**
     * Collector replicas.
     */
    replicas?: number;
    /**
     * How often the collector scrapes the API's metrics for the destinations.
     */
    scrapeInterval?: string;
    resources?: Resources;
    /**
     * The collector Service.
     */
    service?: {
      /**
       * Service type.
       */
      type: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
    };
    /**
     * Node labels the pods must match.
     */
    nodeSelector?: {
      [k: string]: string;
    };
    /**
     * Tolerations of the pods.
     */
    tolerations?: {
      [k: string]: unknown;
    }[];
    /**
     * Affinity of the pods.
     */
    affinity?: {
      [k: string]: unknown;
    };
    /**
     * Annotations on the pods.
     */
    podAnnotations?: {
      [k: string]: string;
    };
  };
  /**
   * In-cluster Jaeger v2.
   */
  jaeger?: {
    /**
     * Deploy Jaeger v2 with memory storage.
     */
    enabled?: boolean;
    image?: Image;
    /**
     * Traces kept in memory.
     */
    maxTraces?: number;
    ingress?: Ingress;
    httpRoute?: HttpRoute;
    resources?: Resources;
  };
  /**
   * In-cluster Prometheus.
   */
  prometheus?: {
    /**
     * Deploy Prometheus scraping the API and the collector.
     */
    enabled?: boolean;
    image?: Image;
    /**
     * Scrape interval.
     */
    scrapeInterval?: string;
    /**
     * TSDB retention.
     */
    retention?: string;
    resources?: Resources;
  };
  /**
   * In-cluster Grafana.
   */
  grafana?: {
    /**
     * Deploy Grafana with the datasources and dashboards.
     */
    enabled?: boolean;
    image?: Image;
    /**
     * Admin user name.
     */
    adminUser?: string;
    /**
     * Secret with the admin password; empty: generated at install.
     */
    existingSecret?: string;
    /**
     * Key of the admin password.
     */
    passwordKey?: string;
    ingress?: Ingress;
    httpRoute?: HttpRoute;
    resources?: Resources;
  };
  /**
   * NetworkPolicies restricting ingress between components.
   */
  networkPolicy?: {
    /**
     * Create NetworkPolicies.
     */
    enabled: boolean;
  };
  /**
   * `helm test`.
   */
  tests?: {
    /**
     * Create the `helm test` pod.
     */
    enabled: boolean;
  };
}
/**
 * Container resources (requests and limits).
 */
export interface Resources {
  requests: ResourceList;
  limits: ResourceList;
}
export interface ResourceList {
  cpu?: Quantity;
  memory?: Quantity;
  'ephemeral-storage'?: Quantity;
}
/**
 * An Ingress (networking.k8s.io/v1) for the component.
 */
export interface Ingress {
  /**
   * Create the Ingress.
   */
  enabled: boolean;
  /**
   * ingressClassName; empty: the cluster's default IngressClass.
   */
  className: string;
  /**
   * Annotations of the object.
   */
  annotations: {
    [k: string]: string;
  };
  /**
   * Host names; one rule each.
   */
  hosts: string[];
  /**
   * Path prefix the component is reached under.
   */
  path: string;
  /**
   * How path matches.
   */
  pathType: 'Prefix' | 'Exact' | 'ImplementationSpecific';
  /**
   * TLS: Secrets (kubernetes.io/tls) and the hosts each covers.
   */
  tls: {
    /**
     * Secret of type kubernetes.io/tls.
     */
    secretName: string;
    hosts?: string[];
  }[];
}
/**
 * A Gateway API HTTPRoute (gateway.networking.k8s.io/v1) for the component; TLS is the Gateway's.
 */
export interface HttpRoute {
  /**
   * Create the HTTPRoute.
   */
  enabled: boolean;
  /**
   * Annotations of the object.
   */
  annotations: {
    [k: string]: string;
  };
  /**
   * Gateways (and listeners, sectionName) the route attaches to.
   */
  parentRefs: {
    /**
     * Gateway name.
     */
    name: string;
    /**
     * Gateway namespace; empty: the release's.
     */
    namespace?: string;
    /**
     * Listener name.
     */
    sectionName?: string;
    port?: number;
    group?: string;
    kind?: string;
  }[];
  /**
   * Host names the route matches; empty: the listeners'.
   */
  hostnames: string[];
  /**
   * Path prefix the component is reached under.
   */
  path: string;
}
/**
 * Container image.
 */
export interface Image {
  /**
   * Image repository.
   */
  repository: string;
  /**
   * Image tag.
   */
  tag: string;
  /**
   * Image pull policy.
   */
  pullPolicy: 'Always' | 'IfNotPresent' | 'Never';
}
/**
 * CA bundle from a Secret or a ConfigMap; both empty: the system CAs.
 */
export interface CaSource {
  /**
   * Secret holding the CA bundle.
   */
  secret: string;
  /**
   * ConfigMap holding the CA bundle.
   */
  configMap: string;
  /**
   * Key of the CA bundle.
   */
  key: string;
}
/**
 * TLS to the destination: an own CA, a client certificate (mTLS), the server name.
 */
export interface DestinationTls {
  ca: CaSource1;
  /**
   * Client certificate and key (mTLS) from a Secret.
   */
  clientCert: {
    /**
     * Secret with the client certificate and key.
     */
    secret: string;
    /**
     * Key of the certificate (PEM).
     */
    certKey: string;
    /**
     * Key of the private key (PEM).
     */
    keyKey: string;
  };
  /**
   * Name to verify the server certificate against; empty: the endpoint's host.
   */
  serverName: string;
  /**
   * Skip verifying the server's certificate (explicit only; NOTES warn).
   */
  insecureSkipVerify: boolean;
}
/**
 * CA bundle from a Secret or a ConfigMap; both empty: the system CAs.
 */
export interface CaSource1 {
  /**
   * Secret holding the CA bundle.
   */
  secret: string;
  /**
   * ConfigMap holding the CA bundle.
   */
  configMap: string;
  /**
   * Key of the CA bundle.
   */
  key: string;
}
