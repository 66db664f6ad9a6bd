// Package realclient drives the real Claude Code CLI (npm @anthropic-ai/claude-code) through
// scripted scenarios against a stand-in Anthropic Messages API and captures the OTLP/HTTP
// requests the CLI exports, byte for byte. It is the Go version of shared/realclient/record.sh,
// mock_anthropic.py and mcp_crm.py, used by the project's end-to-end tests and to re-record
// the corpus (internal/corpus); it is not public API.
//
// Entry points:
//   - [Install] finds or npm-installs the CLI of a version; it returns an error wrapping
//     [ErrUnavailable] when it cannot, so tests can skip.
//   - [Run] runs one scenario as record.sh does and returns a [Result]: the CLI's own summary
//     ([CLIResult]), the captured [Request]s and the model [Call]s.
//   - [Server] is the stand-in model and capture receiver on one address; [NewServer] listens
//     on 127.0.0.1, [NewHandler] gives the bare http.Handler.
//   - [Scenarios] lists the built-in [Scenario]s; Config.Scenarios adds more.
//   - [CountEvents] and [EventCounts] count the CLI's event names in raw logs bodies.
//   - [MCPServer] builds the crm stdio MCP server (package mcpcrm) once per process.
//
// Nothing here reaches beyond 127.0.0.1 except Install's npm install.
package realclient
