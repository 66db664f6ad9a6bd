// Package realclient drives the real Claude Code CLI (npm @anthropic-ai/claude-code) through
// scripted scenarios against a stand-in Anthropic Messages API and captures the OTLP/HTTP
// requests the CLI exports, byte for byte. It is the Go version of shared/realclient/record.sh,
// mock_anthropic.py and mcp_crm.py, used by the project's end-to-end tests and to re-record
// the corpus (internal/corpus); it is not public API.
//
// Entry points:
//   - [Install] finds or npm-installs the CLI of a version; it returns an error wrapping
//     [ErrUnavailable] when it cannot, so tests can skip. .ci/install-deps pre-installs into
//     the same [CacheDir].
//   - [Run] runs one scenario as record.sh does and returns a [Result]: the CLI's own summary
//     ([CLIResult]), the captured [Request]s and the model [Call]s. [Result.Save] writes the
//     corpus layout.
//   - [Server] is the stand-in model and capture receiver on one address; [NewServer] listens
//     on 127.0.0.1, [NewHandler] gives the bare http.Handler.
//   - [Scenarios] lists the built-in [Scenario]s; Config.Scenarios adds more.
//   - [CountEvents] and [EventCounts] count the CLI's event names in raw logs bodies.
//   - [MCPServer] builds the crm stdio MCP server (package mcpcrm) once per process, into a
//     temporary folder that outlives the process.
//
// The stand-in answers byte for byte as mock_anthropic.py does (testdata/mock holds the
// python script's answers; TestMockGolden -pymock regenerates them), so token counts and costs
// match the corpus. Differences from record.sh, all deliberate:
//   - fake homes live in a temporary folder (Config.Root), not /Users, so paths and the
//     *_size_bytes attributes that measure them differ from the corpus;
//   - each Run has its own server, so arrival numbers (file names, toolu_NNNN ids) restart at 1
//     instead of running on across scenarios, and a fresh Root means the workdir starts empty
//     (record.sh's skill run listed files left by earlier runs);
//   - the crm MCP server is a Go binary run without arguments, not python3 mcp_crm.py;
//   - the CLI gets this process's environment without CLAUDE*, ANTHROPIC_*, OTEL_*, HOME and
//     TERM before record.sh's variables are set, so a developer's own settings cannot leak in;
//   - a Messages request that is not JSON gets a 400 where the python mock dropped the
//     connection;
//   - agent and subagent are new scenarios (a background subagent), not in the corpus; the
//     subagent's closing text waits for its parent's (Scenario.After), so its notification
//     always opens a prompt of its own instead of riding the parent's turn when the machine
//     is slow.
//
// Nothing here reaches beyond 127.0.0.1 except Install's npm install.
package realclient
