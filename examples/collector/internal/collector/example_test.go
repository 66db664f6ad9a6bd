package collector_test

import (
	"fmt"

	"github.com/coworkgov/cowork/examples/collector/internal/collector"
)

// The -retain flag: classes not named keep their defaults.
func ExampleParseRetention() {
	r, err := collector.ParseRetention("events=14d,metrics=36h")
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Events, r.Metrics, r.Chains)
	_, err = collector.ParseRetention("logs=30d")
	fmt.Println(err)
	// Output:
	// 336h0m0s 36h0m0s 0s
	// collector: bad retention: unknown class "logs" (want events, chains or metrics)
}

// $COWORK_TOKENS: role:token items; logs and the access log show fingerprints only.
func ExampleParseTokens() {
	toks, err := collector.ParseTokens("ingest:fleet-token,read:dashboard-token")
	if err != nil {
		panic(err)
	}
	for _, t := range toks {
		fmt.Println(t.Role, t.Fingerprint())
	}
	// Output:
	// ingest 233a1f78caac
	// read 66e7ac6f0a86
}
