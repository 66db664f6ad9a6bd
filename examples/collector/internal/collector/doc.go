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
// Access is by bearer tokens with roles ([Role]: ingest for the OTLP endpoints, read for the
// query API, admin for both plus retention and export); every query-API request is recorded in
// the store's access_log table. [Retention] deletes each class of data past its age limit,
// continuously and on demand ([Collector.RunRetention], POST /api/retention/run), and GET
// /api/export hands an investigator the stored events of a time range as OTLP.
//
// [New] opens the store and builds the pipeline; [Collector.Serve] serves OTLP/HTTP, the query
// API and OTLP/gRPC on listeners; [Collector.Shutdown] drains and closes. Tests start it in
// process; main.go wraps it with flags and signals.
package collector
