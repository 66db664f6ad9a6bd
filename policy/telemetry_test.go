package policy_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/policy"
)

func TestTelemetryCheck(t *testing.T) {
	allow := &policy.Egress{Domains: []string{"*.acme.example", "collector.example.org"}}
	tests := []struct {
		name     string
		tel      policy.Telemetry
		egress   *policy.Egress
		errs     []error // sentinels of error issues
		warnings []error // sentinels of warning issues
	}{
		{name: "no endpoint: nothing exported, nothing to check", tel: policy.Telemetry{}},
		{name: "headers without endpoint", tel: policy.Telemetry{Headers: policy.Headers{{Name: "a", Value: "b"}}}, warnings: []error{policy.ErrEndpoint}},
		{name: "good https endpoint", tel: policy.Telemetry{Endpoint: "https://otel.acme.example:4318", Protocol: policy.ProtocolHTTPProtobuf}, egress: allow},
		{name: "exact host on the list", tel: policy.Telemetry{Endpoint: "https://collector.example.org", Protocol: policy.ProtocolHTTPJSON}, egress: allow},
		{name: "wildcard does not match the apex", tel: policy.Telemetry{Endpoint: "https://acme.example", Protocol: policy.ProtocolHTTPJSON}, egress: allow, warnings: []error{policy.ErrEgressBlocked}},
		{name: "host not on the allow-list", tel: policy.Telemetry{Endpoint: "https://otel.other.example", Protocol: policy.ProtocolHTTPJSON}, egress: allow, warnings: []error{policy.ErrEgressBlocked}},
		{name: "empty allow-list blocks", tel: policy.Telemetry{Endpoint: "https://otel.acme.example", Protocol: policy.ProtocolHTTPJSON}, egress: &policy.Egress{}, warnings: []error{policy.ErrEgressBlocked}},
		{name: "allow all", tel: policy.Telemetry{Endpoint: "https://otel.other.example", Protocol: policy.ProtocolHTTPJSON}, egress: &policy.Egress{AllowAll: true}},
		{name: "grpc falls back", tel: policy.Telemetry{Endpoint: "https://otel.acme.example:4317", Protocol: policy.ProtocolGRPC}, egress: allow, warnings: []error{policy.ErrProtocol}},
		{name: "plain http to a remote host", tel: policy.Telemetry{Endpoint: "http://otel.acme.example:4318", Protocol: policy.ProtocolHTTPJSON}, egress: allow, warnings: []error{policy.ErrInsecure}},
		{name: "plain http to localhost is fine", tel: policy.Telemetry{Endpoint: "http://127.0.0.1:4318", Protocol: policy.ProtocolHTTPJSON}, egress: &policy.Egress{AllowAll: true}},
		{name: "signal path in the base URL", tel: policy.Telemetry{Endpoint: "https://otel.acme.example/v1/logs", Protocol: policy.ProtocolHTTPJSON}, egress: allow, warnings: []error{policy.ErrEndpoint}},
		{name: "not a URL", tel: policy.Telemetry{Endpoint: "://nope"}, errs: []error{policy.ErrEndpoint}},
		{name: "wrong scheme", tel: policy.Telemetry{Endpoint: "ftp://otel.acme.example"}, errs: []error{policy.ErrEndpoint}},
		{name: "no host", tel: policy.Telemetry{Endpoint: "https://"}, errs: []error{policy.ErrEndpoint}},
		{name: "credentials and query", tel: policy.Telemetry{Endpoint: "https://u:p@otel.acme.example/?k=v", Protocol: policy.ProtocolHTTPJSON}, egress: allow, errs: []error{policy.ErrEndpoint, policy.ErrEndpoint}},
		{name: "bad port", tel: policy.Telemetry{Endpoint: "https://otel.acme.example:99999", Protocol: policy.ProtocolHTTPJSON}, egress: allow, errs: []error{policy.ErrEndpoint}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is := tt.tel.Check(tt.egress)
			var errs, warns []error
			for _, i := range is {
				switch i.Severity {
				case policy.SeverityError:
					errs = append(errs, i.Err)
				case policy.SeverityWarning:
					warns = append(warns, i.Err)
				}
			}
			assert.Equal(t, tt.errs, errs, is.String())
			assert.Equal(t, tt.warnings, warns, is.String())
		})
	}
}

func TestTelemetryEnvAndForm(t *testing.T) {
	tel := policy.Telemetry{Endpoint: " https://otel.acme.example:4318 ", Headers: policy.Headers{{Name: "Authorization", Value: "Bearer t"}}}
	assert.Equal(t, []string{
		"CLAUDE_CODE_ENABLE_TELEMETRY=1",
		"OTEL_LOGS_EXPORTER=otlp",
		"OTEL_METRICS_EXPORTER=otlp",
		"OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
		"OTEL_EXPORTER_OTLP_ENDPOINT=https://otel.acme.example:4318",
		"OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20t",
	}, tel.Env().Environ())
	f := tel.Form()
	assert.Equal(t, "https://otel.acme.example:4318", f.Endpoint)
	assert.Equal(t, "http/protobuf", f.Protocol)
	assert.Equal(t, "OTLP endpoint: https://otel.acme.example:4318\nOTLP protocol: http/protobuf\nOTLP headers: Authorization=[redacted]\n", f.String())

	assert.Nil(t, policy.Telemetry{}.Env(), "no endpoint: nothing exported")
	assert.Equal(t, policy.AdminForm{}, policy.Telemetry{}.Form())
}

func TestProtocolText(t *testing.T) {
	for _, p := range []policy.Protocol{policy.ProtocolHTTPJSON, policy.ProtocolHTTPProtobuf, policy.ProtocolGRPC} {
		b, err := p.MarshalText()
		require.NoError(t, err)
		var q policy.Protocol
		require.NoError(t, q.UnmarshalText(b))
		assert.Equal(t, p, q)
	}
	var q policy.Protocol
	require.NoError(t, q.UnmarshalText([]byte("carrier-pigeon")))
	assert.Equal(t, policy.ProtocolUnknown, q)
	assert.Equal(t, "unknown", q.String())
}
