// Package datadogconnector provides the "datadog" connector (traces -> APM stats metrics)
// for the otelcol-tracebridge distribution.
//
// Upstream's github.com/open-telemetry/opentelemetry-collector-contrib/connector/datadogconnector
// is, since contrib moved its logic into pkg/datadog, a thin call to
// apmstats.NewConnectorFactory. The module proxy reachable from our machines does not serve
// connector/datadogconnector at the pinned release, but does serve pkg/datadog, so this
// package makes the same call. Drop it and use the upstream module as soon as the proxy
// serves it (see collector/README.md).
package datadogconnector

import (
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/datadog/apmstats"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
)

// NewFactory returns the factory for the "datadog" connector. No tagger, hostname
// provider or shared concentrator is injected (those are for the Datadog Agent's
// embedded collector); the connector then builds its own, as upstream's does.
func NewFactory() connector.Factory {
	return apmstats.NewConnectorFactory(
		component.MustNewType("datadog"),
		component.StabilityLevelBeta, // traces -> metrics
		component.StabilityLevelBeta, // traces -> traces
		nil, nil, nil,
	)
}
