// Package redact benchmarks cowork's redact engine (the Strict preset, every detector on)
// against the OpenTelemetry Collector's redactionprocessor configured as close to it as that
// processor allows: blocked_values regular expressions for the same secret and personal-data
// shapes, HMAC-SHA256 hashing on, summary "info", and as ignored_keys the same keys cowork's
// Strict preset never scans (the correlation ids and its skip list of identifiers and
// enumerated fields), so both sides scan the same attributes.
//
// Both sides process the same OTLP protobuf request bodies, decoded outside the timed region
// (cowork with telemetry.DecodeLogsProto, the processor with pdata's plog.ProtoUnmarshaler);
// each timed operation redacts freshly decoded copies, because both redact in place. Two
// inputs are used: the real corpus recorded from the Claude Code CLI ("real"), and the same
// events with secrets from redact/testdata/labelled.jsonl injected into prompts, responses,
// tool inputs and command lines ("secrets").
//
// Run:
//
//	cd internal/benchmarks && go test ./redact -run '^$' -bench . -benchtime 2s
//
// BenchmarkRedactRatio reports the median per-round throughput ratio (cowork ÷ collector)
// with both sides interleaved, which holds on a loaded machine; BenchmarkRedact reports each
// side's events/s, MB/s and allocations. TestDetection counts which injected secrets survive
// each side.
package redact
