// Package decode compares cowork's OTLP log decoders with the OpenTelemetry Collector's on the
// same bytes: telemetry.DecodeLogsProto and telemetry.DecodeLogsJSON, which build typed
// events, against plog.ProtoUnmarshaler and plog.JSONUnmarshaler from
// go.opentelemetry.io/collector/pdata, which build pdata's generic tree.
//
// The package holds only tests:
//   - agree_test.go proves both decoders read every record of every corpus log file (and of
//     the large batch) the same way: record counts, resources, scopes, timestamps, severities,
//     bodies, ids and every attribute with its wire type, in order.
//   - bench_test.go is BenchmarkDecode, sub-benchmarks named
//     format=proto|json/input=corpus|batch/impl=cowork|pdata reporting MB/s, events/s and
//     allocs/event.
//   - fuzz_test.go holds FuzzAgreeProto and FuzzAgreeJSON: on any input both decoders accept,
//     they must agree as above.
//   - ratio_test.go is BenchmarkDecodeRatio, which times both decoders interleaved in rounds
//     and reports the median of cowork events/s ÷ pdata events/s as "ratio".
//
// Inputs (inputs_test.go) are the corpus's log files ("corpus": one operation decodes every
// file of the format once) and "batch": every log record of the corpus, from both recordings,
// re-encoded by cowork's encoder into one request.
//
// See ../README.md for how to run them and the numbers measured.
package decode
