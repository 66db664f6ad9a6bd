// Package telemetry is the typed event schema of Claude Cowork and Claude Code telemetry, and
// the OTLP codecs that read and write it byte-faithfully.
//
// Both products export OpenTelemetry log events (and eight metric counters) over OTLP. Each
// log record is one event: its name is the event.name attribute (the body repeats it as
// claude_code.<name>), and its attributes are the standard ones ([Common]: session.id,
// prompt.id, event.sequence, identity) plus the event's own. This package decodes those
// records into one typed struct per event ([UserPrompt], [APIRequest], [ToolDecision],
// [ToolResult], … and [Unknown] for names it does not know yet), and encodes them back.
//
// # Decoding
//
// [DecodeLogsProto] and [DecodeLogsJSON] read an ExportLogsServiceRequest; [DecodeMetricsProto]
// and [DecodeMetricsJSON] an ExportMetricsServiceRequest. Use [DecodeOptions] to change the
// limits. Decoding is lenient where Claude Code is inconsistent: numbers and booleans sent as
// strings ("49", "true") fill typed fields, and the wire form is kept. A malformed record is
// reported as a [*DecodeError] and skipped, and its neighbours are returned.
//
// # Nothing is lost
//
// A decoded event keeps every attribute in wire order with its wire type in [Record].Attrs,
// including those no typed field names; encoding writes exactly that list, so decode → encode
// → decode gives equal events. Change events with [Set] and [Delete], which keep the typed
// fields and the attribute list in step. Events you build in Go (for tests, simulators or
// emitters) are encoded from their typed fields with the CLI's own wire types and order.
//
// # Views
//
// Methods compute what investigations need from the raw attributes: [ToolResult.Parameters]
// and [ToolResult.Input] parse the JSON-in-string attributes, [ToolResult.MCP] names the MCP
// server and tool, [ToolResult.FileAccess] lists files read, written, edited or searched,
// [APIRequest.Usage] gives tokens and cost, and [AttributionOf] the skill, plugin, subagent and
// workflow behind an event.
//
// # Validation
//
// [Validate] checks events against the schema for test suites, leniently (what the real CLI
// sends) or strictly.
//
// Subpackages: [github.com/coworkgov/cowork/telemetry/receiver] receives OTLP over HTTP and
// gRPC, [github.com/coworkgov/cowork/telemetry/emit] produces events through the OpenTelemetry
// Go SDK, and [github.com/coworkgov/cowork/telemetry/telemetrytest] helps test suites.
package telemetry
