package policy_test

import (
	"fmt"

	"github.com/coworkgov/cowork/policy"
)

const exampleSnapshot = `
plan: enterprise
groups:
  - {id: rbac_group_eng, name: Engineering, source: scim}
  - {id: rbac_group_design, name: Design, source: manual}
roles:
  - {id: role_cowork, grants: [cowork], groups: [rbac_group_eng]}
members:
  - {id: user_bob, role: custom, groups: [rbac_group_eng]}
  - {id: user_carol, role: custom, groups: [rbac_group_design]}
telemetry:
  endpoint: https://otel.acme.example:4318
  protocol: grpc
  headers: "Authorization=Bearer%20s3cr3t"
network_egress:
  allowed_domains: ["api.anthropic.com"]
`

// Evaluate says whether Cowork is on for a member, naming every gate.
func ExampleSnapshot_Evaluate() {
	s, err := policy.Load([]byte(exampleSnapshot))
	if err != nil {
		panic(err)
	}
	for _, id := range []string{"user_bob", "user_carol"} {
		d, _ := s.Evaluate(id)
		fmt.Printf("%s: enabled=%t stopped at %q\n", id, d.Enabled, d.StoppedAt())
		for _, g := range d.Gates {
			fmt.Println("  ", g)
		}
	}
	// Output:
	// user_bob: enabled=true stopped at "unknown"
	//    entitlement: passed (no platform override)
	//    org toggle: passed (on (default))
	//    custom roles: passed (granted by custom role role_cowork)
	//    member setting: passed (on (default))
	// user_carol: enabled=false stopped at "custom roles"
	//    entitlement: passed (no platform override)
	//    org toggle: passed (on (default))
	//    custom roles: stopped (no custom role of the member's groups grants Cowork)
}

// Validate reports every problem at once; telemetry findings included.
func ExampleSnapshot_Validate() {
	s, _ := policy.Load([]byte(exampleSnapshot))
	for _, is := range s.Validate() {
		fmt.Println(is)
	}
	// Output:
	// warning: line 13: telemetry.protocol: Cowork sessions do not export over gRPC and fall back to http/protobuf: the collector must also accept OTLP/HTTP at this endpoint
	// warning: line 12: telemetry.endpoint: collector host otel.acme.example is not on the network egress allow-list: events from Cowork sessions would be dropped
}

// Load reports unknown fields with their lines.
func ExampleLoad() {
	_, err := policy.Load([]byte("plan: team\nmembers:\n  - id: a\n    rol: user\n"))
	fmt.Println(err)
	// Output:
	// line 4: members[0].rol: unknown field "rol"
}

// Env renders the setting for an exporter; printing masks the header values.
func ExampleTelemetry_Env() {
	t := policy.Telemetry{
		Endpoint: "https://otel.acme.example:4318",
		Protocol: policy.ProtocolHTTPJSON,
		Headers:  policy.Headers{{Name: "Authorization", Value: "Bearer s3cr3t"}},
	}
	fmt.Print(t.Env())
	fmt.Print(t.Form())
	// Output:
	// CLAUDE_CODE_ENABLE_TELEMETRY=1
	// OTEL_LOGS_EXPORTER=otlp
	// OTEL_METRICS_EXPORTER=otlp
	// OTEL_EXPORTER_OTLP_PROTOCOL=http/json
	// OTEL_EXPORTER_OTLP_ENDPOINT=https://otel.acme.example:4318
	// OTEL_EXPORTER_OTLP_HEADERS=[redacted]
	// OTLP endpoint: https://otel.acme.example:4318
	// OTLP protocol: http/json
	// OTLP headers: Authorization=[redacted]
}

// ParseHeaders reads the OTLP key=value syntax; values are percent-decoded and never
// printed.
func ExampleParseHeaders() {
	h, err := policy.ParseHeaders("Authorization=Bearer%20s3cr3t, X-Scope-OrgID=acme")
	if err != nil {
		panic(err)
	}
	v, _ := h.Get("authorization")
	fmt.Println(h, len(v))
	_, err = policy.ParseHeaders("Authorization")
	fmt.Println(err)
	// Output:
	// Authorization=[redacted],X-Scope-OrgID=[redacted] 13
	// policy: invalid otlp headers: entry 0: missing '='
}
