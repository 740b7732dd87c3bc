/* Generated from charts/tracebridge/values.schema.json by cdk8s/src/values-type.ts: do not edit.
 * Regenerate with `node cdk8s/src/values-type.ts`. */

/**
 * Pull secrets for every pod (for umbrella charts), added to imagePullSecrets.
 */
export type PullSecrets = {
  /**
   * Secret name.
   */
  name: string;
}[];
/**
 * Secrets for pulling private images, on every pod.
 */
export type PullSecrets1 = {
  /**
   * Secret name.
   */
  name: string;
}[];
/**
 * Pull secrets of these pods, added to global.imagePullSecrets and imagePullSecrets.
 */
export type PullSecrets2 = {
  /**
   * Secret name.
   */
  name: string;
}[];
export type Quantity = string | number;
export type NetworkPolicyPeers = NetworkPolicyPeer[];
export type NetworkPolicyPorts = NetworkPolicyPort[];
/**
 * More ingress rules (NetworkPolicyIngressRule).
 */
export type NetworkPolicyExtraIngress = {
  from?: NetworkPolicyPeers;
  ports?: NetworkPolicyPorts;
}[];
/**
 * Egress rules (NetworkPolicyEgressRule); given any, egress is restricted to DNS, the release's peers and these.
 */
export type NetworkPolicyExtraEgress = {
  to?: NetworkPolicyPeers;
  ports?: NetworkPolicyPorts;
}[];
/**
 * Peers that may send OTLP (otlp-grpc, otlp-http).
 */
export type NetworkPolicyPeers1 = NetworkPolicyPeer[];
/**
 * Peers that may query Jaeger (query-http).
 */
export type NetworkPolicyPeers2 = NetworkPolicyPeer[];
/**
 * Peers that may query Prometheus (http).
 */
export type NetworkPolicyPeers3 = NetworkPolicyPeer[];
/**
 * Peers that may connect to PostgreSQL (postgresql).
 */
export type NetworkPolicyPeers4 = NetworkPolicyPeer[];
/**
 * Peers that may open Grafana (http), e.g. the ingress controller.
 */
export type NetworkPolicyPeers5 = NetworkPolicyPeer[];

export interface TracebridgeValues {
  /**
   * Values shared with parent charts.
   */
  global?: {
    /**
     * Registry prefixed to every image without a registry of its own: registry/repository:tag.
     */
    imageRegistry?: string;
    imagePullSecrets?: PullSecrets;
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
  imagePullSecrets?: PullSecrets1;
  /**
   * The traced users/posts API.
   */
  api?: Pod & {
    /**
     * Deploy the demo API and its database (postgresql). false: the stack for your own apps; `helm test` then sends a span of its own.
     */
    enabled?: boolean;
    /**
     * The API image (also runs the migrations and `helm test`).
     */
    image?: {
      /**
       * Image repository; the default is the image the release workflow publishes (tag: the appVersion).
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
      /**
       * Registry of this image; empty: global.imageRegistry, else none (Docker Hub).
       */
      registry?: string;
      /**
       * Pin by digest: repository@digest (the tag is then ignored).
       */
      digest?: string;
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
     * ORM-level spans (query, relationship, session) carrying their SQL, and N+1 detection; false: the pg driver's spans instead.
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
      annotations?: ServiceAnnotations;
      labels?: ServiceLabels;
    };
    /**
     * Prometheus metrics port of the API (/metrics).
     */
    metricsPort?: number;
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
       * Average CPU to scale at, in percent of the CPU request; between 25 % and 90 % of the CPU limit.
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
       * Pods that must stay available; with a single pod (api.replicas or api.autoscaling.minReplicas) rendered as maxUnavailable 1, so that drains proceed.
       */
      minAvailable: number | string;
    };
    ingress?: Ingress;
    httpRoute?: HttpRoute;
  };
  /**
   * In-cluster PostgreSQL.
   */
  postgresql?: Pod & {
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
       * Volume size; fixed once installed (see "Upgrading").
       */
      size: string;
      /**
       * StorageClass; empty: the cluster's default.
       */
      storageClass: string;
    };
    resources?: Resources;
    /**
     * The PostgreSQL Service.
     */
    service?: {
      annotations?: ServiceAnnotations;
      labels?: ServiceLabels;
    };
    /**
     * Let an upgrade change the major version of postgresql.image.tag (for the dump-and-restore path in "Upgrading").
     */
    allowMajorVersionChange?: boolean;
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
  collector?: Pod & {
    image?: Image;
    /**
     * Topology: deployment (one Deployment) or agent-gateway (per-node agents and load-balanced, tail-sampling gateways).
     */
    mode?: 'deployment' | 'agent-gateway';
    /**
     * Replicas of the deployment mode's collector: 1 (it scrapes every API pod; more would count every metric again).
     */
    replicas?: number;
    /**
     * The per-node agents of agent-gateway mode.
     */
    agent?: {
      resources?: Resources;
    };
    /**
     * The gateways of agent-gateway mode.
     */
    gateway?: {
      /**
       * Gateways when autoscaling is off; at least 2.
       */
      replicas?: number;
      resources?: Resources;
      /**
       * HorizontalPodAutoscaler of the gateways, on CPU and memory.
       */
      autoscaling?: {
        /**
         * Create a HorizontalPodAutoscaler for the gateways.
         */
        enabled: boolean;
        /**
         * Minimum gateways; at least 2.
         */
        minReplicas: number;
        /**
         * Maximum gateways.
         */
        maxReplicas: number;
        /**
         * Average CPU to scale at, in percent of the request.
         */
        targetCPUUtilizationPercentage: number;
        /**
         * Average memory to scale at, in percent of the request.
         */
        targetMemoryUtilizationPercentage: number;
      };
      /**
       * PodDisruptionBudget of the gateways.
       */
      podDisruptionBudget?: {
        /**
         * Gateways kept up during voluntary disruptions.
         */
        minAvailable: number | string;
      };
    };
    /**
     * Which traces the gateways keep (agent-gateway mode).
     */
    tailSampling?: {
      /**
       * Wait after a trace's first span before deciding, e.g. 10s.
       */
      decisionWait: string;
      /**
       * Traces held while waiting.
       */
      numTraces: number;
      /**
       * A trace with a span slower than this (ms) is kept.
       */
      latencyThresholdMs: number;
      /**
       * Share of the remaining traces kept, in percent.
       */
      percentage: number;
    };
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
      annotations?: ServiceAnnotations;
      labels?: ServiceLabels;
    };
    /**
     * Collector configuration deep-merged over the chart's (one more --config, last): extra receivers, processors, exporters, pipelines. A list (a pipeline's receivers) replaces the chart's: restate it whole.
     */
    config?: {
      /**
       * Collector receivers, by id.
       */
      receivers?: {
        [k: string]: unknown;
      };
      /**
       * Collector processors, by id.
       */
      processors?: {
        [k: string]: unknown;
      };
      /**
       * Collector exporters, by id.
       */
      exporters?: {
        [k: string]: unknown;
      };
      /**
       * Collector connectors, by id.
       */
      connectors?: {
        [k: string]: unknown;
      };
      /**
       * Collector extensions, by id.
       */
      extensions?: {
        [k: string]: unknown;
      };
      /**
       * Service section: pipelines, extensions, telemetry.
       */
      service?: {
        [k: string]: unknown;
      };
    };
    /**
     * What the collector scrapes besides the API.
     */
    scrape?: {
      /**
       * Other workloads' pods, scraped by the collector.
       */
      pods?: {
        /**
         * Scrape pods annotated prometheus.io/scrape: "true" (port, path, scheme from prometheus.io/port, /path, /scheme) and send their metrics to the destinations.
         */
        enabled?: boolean;
        /**
         * Namespaces to look in; empty: the release's. Others get a RoleBinding each unless rbac.create is false.
         */
        namespaces?: string[];
        /**
         * A Kubernetes label selector narrowing the pods (e.g. app.kubernetes.io/part-of=shop); empty: every annotated pod.
         */
        selector?: string;
        /**
         * Scrape interval.
         */
        interval?: string;
        /**
         * RBAC for namespaces other than the release's.
         */
        rbac?: {
          /**
           * Create the ClusterRole that reads pods and a RoleBinding to it in each other namespace.
           */
          create?: boolean;
        };
      };
    };
  };
  /**
   * In-cluster Jaeger v2.
   */
  jaeger?: Pod & {
    /**
     * Deploy Jaeger v2 (storage: jaeger.storage).
     */
    enabled?: boolean;
    image?: Image;
    /**
     * Traces kept in memory (storage.type memory).
     */
    maxTraces?: number;
    /**
     * Always 1: Badger locks its directory (a second pod on the volume fails) and memory storage holds every trace in one pod.
     */
    replicas?: 1;
    /**
     * Where Jaeger keeps traces; Jaeger runs as one pod whatever the type.
     */
    storage?: {
      /**
       * badger: on a PersistentVolumeClaim, survives restarts; memory: lost on restart; elasticsearch, opensearch, cassandra: an external cluster.
       */
      type: 'memory' | 'badger' | 'elasticsearch' | 'opensearch' | 'cassandra';
      /**
       * Badger on the jaeger.persistence volume.
       */
      badger: {
        /**
         * How long spans are kept (a Go duration, e.g. 72h); Badger drops older ones.
         */
        retention: string;
      };
      elasticsearch: JaegerSearchStorage;
      opensearch: JaegerSearchStorage1;
      /**
       * An external Cassandra cluster.
       */
      cassandra: {
        /**
         * Contact points (host or host:port).
         */
        servers: string[];
        /**
         * The keyspace; it must exist unless createSchema is true.
         */
        keyspace: string;
        /**
         * Let Jaeger create the keyspace and tables at start.
         */
        createSchema: boolean;
        auth: JaegerStorageAuth;
        /**
         * TLS to Cassandra.
         */
        tls: {
          /**
           * Connect with TLS.
           */
          enabled: boolean;
          ca: CaSource1;
        };
      };
    };
    /**
     * The badger volume (ReadWriteOnce, mounted by the one Jaeger pod).
     */
    persistence?: {
      /**
       * Size of the PersistentVolumeClaim the chart creates.
       */
      size: string;
      /**
       * StorageClass; empty: the cluster's default.
       */
      storageClass: string;
      /**
       * An existing PersistentVolumeClaim to use instead.
       */
      existingClaim: string;
    };
    resources?: Resources;
    /**
     * The Jaeger Service.
     */
    service?: {
      annotations?: ServiceAnnotations;
      labels?: ServiceLabels;
    };
    ingress?: Ingress;
    httpRoute?: HttpRoute;
  };
  /**
   * In-cluster Prometheus.
   */
  prometheus?: Pod & {
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
    /**
     * The Prometheus Service.
     */
    service?: {
      annotations?: ServiceAnnotations;
      labels?: ServiceLabels;
    };
  };
  /**
   * In-cluster Grafana.
   */
  grafana?: Pod & {
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
    resources?: Resources;
    /**
     * The Grafana Service.
     */
    service?: {
      annotations?: ServiceAnnotations;
      labels?: ServiceLabels;
    };
    /**
     * Grafana's datasources.
     */
    datasources?: {
      /**
       * URL of an existing Prometheus for the Prometheus datasource; empty: the in-cluster one (required without it).
       */
      prometheusUrl?: string;
    };
    /**
     * Grafana's dashboards.
     */
    dashboards?: {
      /**
       * Dashboards for Grafana's dashboard sidecar (kube-prometheus-stack).
       */
      sidecar?: {
        /**
         * The dashboards as ConfigMaps for an existing Grafana's sidecar (works with grafana.enabled=false).
         */
        enabled?: boolean;
        /**
         * The label the sidecar watches.
         */
        label?: string;
        /**
         * Its value.
         */
        labelValue?: string;
        /**
         * Grafana folder, set in folderAnnotation; empty: none.
         */
        folder?: string;
        /**
         * The annotation the sidecar reads the folder from.
         */
        folderAnnotation?: string;
        /**
         * Namespace of the ConfigMaps; empty: the release's.
         */
        namespace?: string;
      };
    };
    ingress?: Ingress;
    httpRoute?: HttpRoute;
  };
  /**
   * NetworkPolicies restricting ingress between components, and egress where asked.
   */
  networkPolicy?: {
    /**
     * Create NetworkPolicies.
     */
    enabled: boolean;
    /**
     * The API's policy (its http port is open to all).
     */
    api?: {
      extraIngress?: NetworkPolicyExtraIngress;
      extraEgress?: NetworkPolicyExtraEgress;
    };
    /**
     * The collector's policy.
     */
    collector?: {
      from?: NetworkPolicyPeers1;
      extraIngress?: NetworkPolicyExtraIngress;
      extraEgress?: NetworkPolicyExtraEgress;
    };
    /**
     * Jaeger's policy.
     */
    jaeger?: {
      from?: NetworkPolicyPeers2;
      extraIngress?: NetworkPolicyExtraIngress;
      extraEgress?: NetworkPolicyExtraEgress;
    };
    /**
     * Prometheus' policy.
     */
    prometheus?: {
      from?: NetworkPolicyPeers3;
      extraIngress?: NetworkPolicyExtraIngress;
      extraEgress?: NetworkPolicyExtraEgress;
    };
    /**
     * PostgreSQL's policy.
     */
    postgresql?: {
      from?: NetworkPolicyPeers4;
      extraIngress?: NetworkPolicyExtraIngress;
      extraEgress?: NetworkPolicyExtraEgress;
    };
    /**
     * Grafana's policy: no ingress but kubectl port-forward and these peers.
     */
    grafana?: {
      from?: NetworkPolicyPeers5;
      extraIngress?: NetworkPolicyExtraIngress;
      extraEgress?: NetworkPolicyExtraEgress;
    };
  };
  /**
   * `helm test`.
   */
  tests?: Pod & {
    /**
     * Create the `helm test` pod.
     */
    enabled: boolean;
  };
  /**
   * More objects to deploy with the release: Kubernetes objects or YAML strings, each rendered with tpl.
   */
  extraObjects?: (
    | {
        [k: string]: unknown;
      }
    | string
  )[];
  /**
   * Generate the PostgreSQL and Grafana passwords in a render that cannot read the cluster (helm template, Argo CD); off: such a render needs postgresql.existingSecret and grafana.existingSecret. See "Passwords and GitOps".
   */
  allowGeneratedPasswordsWithoutLookup?: boolean;
  /**
   * prometheus-operator ServiceMonitors (ServiceMonitor or PodMonitor, not both).
   */
  serviceMonitor?: {
    /**
     * A ServiceMonitor each for the API's and the collector's metrics (needs the prometheus-operator CRDs).
     */
    enabled?: boolean;
    /**
     * Namespace of the objects; empty: the release's.
     */
    namespace?: string;
    /**
     * Labels of the objects, e.g. release: kube-prometheus-stack for its serviceMonitorSelector.
     */
    labels?: {
      [k: string]: string;
    };
    /**
     * Scrape interval; empty: Prometheus' default.
     */
    interval?: string;
    /**
     * Scrape timeout; empty: Prometheus' default.
     */
    scrapeTimeout?: string;
    /**
     * Extra relabelings of each endpoint (after the one that sets job).
     */
    relabelings?: {
      [k: string]: unknown;
    }[];
    /**
     * metricRelabelings of each endpoint.
     */
    metricRelabelings?: {
      [k: string]: unknown;
    }[];
  };
  /**
   * prometheus-operator PodMonitors (ServiceMonitor or PodMonitor, not both).
   */
  podMonitor?: {
    /**
     * A PodMonitor each for the API's and the collector's metrics (needs the prometheus-operator CRDs).
     */
    enabled?: boolean;
    /**
     * Namespace of the objects; empty: the release's.
     */
    namespace?: string;
    /**
     * Labels of the objects, e.g. release: kube-prometheus-stack for its podMonitorSelector.
     */
    labels?: {
      [k: string]: string;
    };
    /**
     * Scrape interval; empty: Prometheus' default.
     */
    interval?: string;
    /**
     * Scrape timeout; empty: Prometheus' default.
     */
    scrapeTimeout?: string;
    /**
     * Extra relabelings of each endpoint (after the one that sets job).
     */
    relabelings?: {
      [k: string]: unknown;
    }[];
    /**
     * metricRelabelings of each endpoint.
     */
    metricRelabelings?: {
      [k: string]: unknown;
    }[];
  };
  /**
   * prometheus-operator alerts.
   */
  prometheusRule?: {
    /**
     * A PrometheusRule with the alerts of files/alerts.yaml (needs the prometheus-operator CRDs).
     */
    enabled?: boolean;
    /**
     * Namespace of the PrometheusRule; empty: the release's.
     */
    namespace?: string;
    /**
     * Labels of the PrometheusRule, e.g. release: kube-prometheus-stack for its ruleSelector.
     */
    labels?: {
      [k: string]: string;
    };
    /**
     * Labels added to every alert (they win over the alert's own).
     */
    alertLabels?: {
      [k: string]: string;
    };
    /**
     * Alerts left out, by name: {AlertName: true}.
     */
    disabled?: {
      [k: string]: boolean;
    };
  };
}
/**
 * A workload's escape hatches (templates/_pod.tpl renders them on every pod).
 */
export interface Pod {
  /**
   * Extra environment variables of the main container (Kubernetes EnvVar objects), after the chart's. Use valueFrom.secretKeyRef for anything secret; a GOMEMLIMIT here replaces the chart's.
   */
  extraEnv?: {
    name: string;
    [k: string]: unknown;
  }[];
  /**
   * envFrom sources of the main container (configMapRef, secretRef).
   */
  extraEnvFrom?: {
    [k: string]: unknown;
  }[];
  /**
   * Extra pod volumes.
   */
  extraVolumes?: {
    name: string;
    [k: string]: unknown;
  }[];
  /**
   * Extra volume mounts of the main container.
   */
  extraVolumeMounts?: {
    name: string;
    mountPath: string;
    [k: string]: unknown;
  }[];
  /**
   * Sidecar containers, after the chart's (give them a restricted securityContext and resources).
   */
  extraContainers?: {
    name: string;
    [k: string]: unknown;
  }[];
  /**
   * Init containers, after the chart's own.
   */
  initContainers?: {
    name: string;
    [k: string]: unknown;
  }[];
  /**
   * Annotations on the pods.
   */
  podAnnotations?: {
    [k: string]: string;
  };
  /**
   * Labels on the pods (the chart's own labels win).
   */
  podLabels?: {
    [k: string]: string;
  };
  /**
   * Merged over the pod's Pod Security "restricted" securityContext, key by key; null removes a key (OpenShift restricted-v2: runAsUser, runAsGroup, fsGroup null).
   */
  podSecurityContext?: {
    [k: string]:
      | string
      | number
      | boolean
      | {
          [k: string]: unknown;
        }
      | unknown[]
      | null;
  };
  /**
   * Merged over the main container's "restricted" securityContext, key by key; null removes a key.
   */
  securityContext?: {
    [k: string]:
      | string
      | number
      | boolean
      | {
          [k: string]: unknown;
        }
      | unknown[]
      | null;
  };
  imagePullSecrets?: PullSecrets2;
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
   * Topology spread constraints of the pods.
   */
  topologySpreadConstraints?: {
    [k: string]: unknown;
  }[];
  /**
   * PriorityClass of the pods; empty: the cluster's default.
   */
  priorityClassName?: string;
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
 * Annotations on the Service.
 */
export interface ServiceAnnotations {
  [k: string]: string;
}
/**
 * Labels on the Service (the chart's own labels win).
 */
export interface ServiceLabels {
  [k: string]: string;
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
  /**
   * Registry of this image; empty: global.imageRegistry, else none (Docker Hub).
   */
  registry?: string;
  /**
   * Pin by digest: repository@digest (the tag is then ignored).
   */
  digest?: string;
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
/**
 * An external Elasticsearch cluster.
 */
export interface JaegerSearchStorage {
  /**
   * The cluster's URLs (http:// or https://).
   */
  serverUrls: string[];
  /**
   * Prefix of Jaeger's index names; empty: none.
   */
  indexPrefix: string;
  auth: JaegerStorageAuth;
  /**
   * TLS of https:// URLs.
   */
  tls: {
    ca: CaSource1;
  };
}
/**
 * Credentials from a Secret (env via secretKeyRef; never in values or the ConfigMap).
 */
export interface JaegerStorageAuth {
  /**
   * Secret with the username and password; empty: no auth.
   */
  existingSecret: string;
  /**
   * Key of the username in existingSecret.
   */
  usernameKey: string;
  /**
   * Key of the password in existingSecret.
   */
  passwordKey: string;
}
/**
 * An external OpenSearch cluster.
 */
export interface JaegerSearchStorage1 {
  /**
   * The cluster's URLs (http:// or https://).
   */
  serverUrls: string[];
  /**
   * Prefix of Jaeger's index names; empty: none.
   */
  indexPrefix: string;
  auth: JaegerStorageAuth;
  /**
   * TLS of https:// URLs.
   */
  tls: {
    ca: CaSource1;
  };
}
/**
 * A NetworkPolicyPeer: pods, namespaces or an IP block.
 */
export interface NetworkPolicyPeer {
  /**
   * Label selector of pods.
   */
  podSelector?: {
    [k: string]: unknown;
  };
  /**
   * Label selector of namespaces.
   */
  namespaceSelector?: {
    [k: string]: unknown;
  };
  ipBlock?: {
    /**
     * CIDR.
     */
    cidr: string;
    except?: string[];
  };
}
/**
 * A NetworkPolicyPort: a number or the pod's port name.
 */
export interface NetworkPolicyPort {
  port?: number | string;
  endPort?: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
}
