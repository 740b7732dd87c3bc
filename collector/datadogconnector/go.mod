// Local stand-in for contrib's connector/datadogconnector, which the Go module proxy
// reachable here does not serve at v0.155.0 (nor at any release since v0.148.0; see
// ../README.md). It only wraps the
// upstream connector implementation in contrib's pkg/datadog (apmstats), so the
// connector type, config and behaviour are upstream's.
module tracebridge.local/collector/datadogconnector

go 1.26.0

require (
	github.com/open-telemetry/opentelemetry-collector-contrib/pkg/datadog v0.155.0
	go.opentelemetry.io/collector/component v1.61.0
	go.opentelemetry.io/collector/connector v0.155.0
)
