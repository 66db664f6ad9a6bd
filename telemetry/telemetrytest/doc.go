// Package telemetrytest helps test suites that consume Claude Cowork and Claude Code telemetry,
// in the spirit of net/http/httptest and OpenTelemetry-Go's sdk/log/logtest.
//
// It has four parts:
//
//   - [Factory] builds single typed events with realistic defaults (UUID v4 session and prompt
//     ids, toolu_… tool-use ids, 64-hex user ids, tagged user_01… account ids, timestamps
//     with millisecond precision and a per-process event.sequence), overridable field by field
//     with plain functions: f.ToolResult(func(e *telemetry.ToolResult) { e.Success = false }).
//   - [Fleet] simulates a fleet of users running sessions, deterministically from a seed, with
//     the order quirks, subagents, MCP calls, skills, rejected tools and API errors of the real
//     CLI, optional chaos (duplicates, reordering, late events), streamed one session at a
//     time, and with each session's ground truth ([SessionTruth]) for checking reconstruction.
//   - [Receiver] is an in-memory OTLP/HTTP receiver on 127.0.0.1 (logs and metrics, protobuf
//     and JSON, gzip) that records what it was sent.
//   - [AssertValidPayload], [RequireValid], [AssertEventsEqual] and [Diff] check payloads and
//     events, taking the small [TB] interface that *testing.T satisfies.
//
// Everything here is for tests and simulators; nothing in it is needed in production.
package telemetrytest
