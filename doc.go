// Package cowork is the map of an SDK for governing a fleet of AI agents (Claude Cowork and
// Claude Code) running on employees' machines, from the OpenTelemetry events those apps export
// and the admin policy that governs them. This package holds no code; its subpackages do.
//
// # Telemetry
//
// [github.com/coworkgov/cowork/telemetry] is the typed event schema (one struct per event,
// e.g. telemetry.ToolResult, telemetry.APIRequest), byte-faithful OTLP decoding and encoding in
// protobuf and JSON (telemetry.DecodeLogsProto, telemetry.DecodeLogsJSON,
// telemetry.EncodeLogsProto), metric points, and telemetry.Validate for test suites. Its
// subpackages receive OTLP over HTTP and gRPC
// ([github.com/coworkgov/cowork/telemetry/receiver]), emit Cowork-shaped events through the
// OpenTelemetry Go SDK ([github.com/coworkgov/cowork/telemetry/emit]), and help test suites
// with factories, a fleet simulator and an in-memory receiver
// ([github.com/coworkgov/cowork/telemetry/telemetrytest]).
//
// # Redaction
//
// [github.com/coworkgov/cowork/redact] strips prompt text, secrets, PII and paths from events
// before anything is stored: built-in detectors with validators, rules by event, key and JSON
// path, keyed pseudonyms, presets (strict, balanced, none). It fails closed.
//
// # Correlation
//
// [github.com/coworkgov/cowork/correlate] reconstructs what each agent did for one prompt (a
// correlate.Chain: API calls, tool calls with their decisions and results, MCP, skills,
// subagents, files, cost) and per session, streaming and bounded in memory, and joins the
// result with Anthropic's Compliance API records and SIEM schemas.
//
// # Policy and plugins
//
// [github.com/coworkgov/cowork/policy] models an organization's admin controls (plan, Cowork
// toggle, groups, custom roles, telemetry settings) and explains each member's access;
// [github.com/coworkgov/cowork/plugins] resolves plugin distribution levels per member with
// group overrides and previews the effect of a change.
// [github.com/coworkgov/cowork/drift] compares what the fleet does (plugins loaded, Cowork used,
// organization ids seen) with what that policy says, and reports each finding with its
// evidence and the policy explanation behind it.
//
// # Programs
//
// examples/collector is the main job: a privacy-sensitive collector that receives, redacts,
// correlates and stores events (go run ./examples/collector). examples/audit writes the weekly
// audit report from the collector's store; the other programs in examples/ show one package
// each.
package cowork
