// Package collector is the engine of the cowork collector (examples/collector): a
// privacy-sensitive OTLP collector for Claude Cowork and Claude Code telemetry, composed from
// the SDK's packages.
//
// The pipeline is receive ([receiver]) → decode ([telemetry]) → redact ([redact], before
// anything is stored or forwarded) → store (SQLite in WAL mode, one transaction shared by
// concurrent requests) → acknowledge → correlate ([correlate.Assembler]) → store chains and
// sessions, with an optional OTLP/HTTP forwarder that reads the stored, redacted batches in
// order. A request is acknowledged only after its events are committed; chains that were still
// open when the process stopped (or was killed) are rebuilt from the stored events on start.
//
// [New] opens the store and builds the pipeline; [Collector.Serve] serves OTLP/HTTP, the query
// API and OTLP/gRPC on listeners; [Collector.Shutdown] drains and closes. Tests start it in
// process; main.go wraps it with flags and signals.
package collector
