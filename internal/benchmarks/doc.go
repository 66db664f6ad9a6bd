// Package benchmarks is the root of a nested module that measures cowork against its peers
// side by side, on the same input bytes and in the same run. It has its own go.mod so that the
// peers it compares against (the OpenTelemetry Collector's pdata, its processors) never become
// dependencies of the cowork module itself.
//
// Sub-packages:
//   - decode: OTLP log decode throughput of telemetry.DecodeLogsProto and
//     telemetry.DecodeLogsJSON against the Collector's plog unmarshalers, plus correctness
//     tests proving both read every corpus record the same way.
//   - redact: cowork's redact engine against the Collector's redactionprocessor.
//
// See README.md for how to run the benchmarks and the numbers measured.
package benchmarks
