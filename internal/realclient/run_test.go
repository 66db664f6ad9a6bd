package realclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/internal/corpus"
)

// installOrSkip returns the real CLI, or skips the test loudly when it cannot be had.
func installOrSkip(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("realclient: -short set: the real Claude Code CLI end-to-end checks did NOT run")
	}
	ctx, cancel := context.WithTimeout(t.Context(), InstallTimeout+30*time.Second)
	defer cancel()
	bin, err := Install(ctx, corpus.Version)
	if errors.Is(err, ErrUnavailable) {
		t.Skipf("realclient: the real Claude Code CLI %s is unavailable, end-to-end checks did NOT run: %v", corpus.Version, err)
	}
	require.NoError(t, err)
	return bin
}

func joined(reqs []Request) []byte {
	var b []byte
	for _, r := range reqs {
		b = append(b, r.Body...)
	}
	return b
}

// TestRealCLI runs the real CLI through every recorded scenario over both protocols and checks
// what it exported against the corpus recorded with the same version.
func TestRealCLI(t *testing.T) {
	bin := installOrSkip(t)
	protos := []Protocol{ProtocolJSON, ProtocolProtobuf}
	for _, proto := range protos {
		for _, scen := range RecordedScenarios() {
			t.Run(proto.Encoding()+"/"+scen, func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
				defer cancel()
				res, err := Run(ctx, Config{Bin: bin, Scenario: scen, Protocol: proto, Timeout: 45 * time.Second})
				require.NoError(t, err)
				t.Logf("%s: CLI %v, flush %v, %d requests", scen, res.Duration.Round(time.Millisecond), res.Flush.Round(time.Millisecond), len(res.Requests))

				enc := corpus.Encoding(proto.Encoding())
				var want corpus.Result
				require.NoError(t, json.Unmarshal(corpus.CLIResult(enc, scen), &want))
				assert.Equal(t, want.TotalCostUSD, res.CLI.TotalCostUSD, "cost")
				assert.Equal(t, want.NumTurns, res.CLI.NumTurns, "turns")
				assert.Equal(t, want.IsError, res.CLI.IsError, "is_error")
				require.NotEmpty(t, res.CLI.SessionID)

				logs, metrics := res.Logs(), res.Metrics()
				require.NotEmpty(t, logs, "log bodies")
				require.NotEmpty(t, metrics, "metric bodies")
				wantCT := map[Protocol]string{ProtocolJSON: "application/json", ProtocolProtobuf: "application/x-protobuf"}[proto]
				for _, r := range res.Requests {
					assert.Equal(t, wantCT, r.ContentType, r.Name())
				}
				all := joined(logs)
				assert.Contains(t, string(all), res.CLI.SessionID, "session id in the logs")
				assert.Contains(t, string(joined(metrics)), res.CLI.SessionID, "session id in the metrics")
				assert.Contains(t, string(all), res.User.Email)
				assert.True(t, bytes.Contains(all, []byte("process.owner")) && bytes.Contains(all, []byte(res.User.Login)), "process.owner")

				var corpusLogs [][]byte
				for _, f := range corpus.Logs(enc, scen) {
					corpusLogs = append(corpusLogs, f.Data)
				}
				assert.Equal(t, CountEvents(corpusLogs...), EventCounts(res.Requests), "event names as in the corpus")
			})
		}
	}

	t.Run("json/agent", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		defer cancel()
		res, err := Run(ctx, Config{Bin: bin, Scenario: "agent", Timeout: 45 * time.Second})
		require.NoError(t, err)
		t.Logf("agent: CLI %v, %d model calls, events %v", res.Duration.Round(time.Millisecond), len(res.Calls), EventCounts(res.Requests))
		var stats struct {
			Subagents struct {
				Spawned             int `json:"spawned"`
				StartedInBackground int `json:"started_in_background"`
			} `json:"subagent_stats"`
		}
		require.NoError(t, json.Unmarshal(res.CLI.Raw, &stats))
		assert.Equal(t, 1, stats.Subagents.Spawned)
		assert.Equal(t, 1, stats.Subagents.StartedInBackground)
		ev := EventCounts(res.Requests)
		assert.Equal(t, 1, ev["subagent_completed"], "events: %v", ev)
		assert.Contains(t, string(joined(res.Logs())), `"agent_id"`)
		var scens []string
		for _, c := range res.Calls {
			scens = append(scens, c.Scenario)
		}
		assert.Contains(t, scens, "subagent", "the subagent's own model calls")
		assert.Equal(t, 2, ev["user_prompt"], "the notification opened a prompt of its own: %v", ev)
	})

	// A parent whose turn outlasts its subagent: without Scenario.After the CLI would hand the
	// notification to the parent's next model call and no second prompt would open.
	t.Run("json/agent-slow-parent", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		defer cancel()
		slow := Scenario{Name: "agent", AllowedTools: []string{"Agent", "Bash"}, Steps: []Step{
			{"Agent", `{"description": "Research Globex", "prompt": "scenario:subagent workdir:@W@ Research the competitor Globex.", "subagent_type": "general-purpose", "run_in_background": true}`},
			{"Bash", `{"command": "sleep 3", "description": "Wait"}`},
		}}
		res, err := Run(ctx, Config{Bin: bin, Scenario: "agent", Scenarios: []Scenario{slow}, Timeout: 45 * time.Second})
		require.NoError(t, err)
		ev := EventCounts(res.Requests)
		assert.Equal(t, 1, ev["subagent_completed"], "events: %v", ev)
		assert.Equal(t, 2, ev["user_prompt"], "the notification opened a prompt of its own: %v", ev)
	})

	t.Run("protobuf/web-gzip", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		defer cancel()
		res, err := Run(ctx, Config{Bin: bin, Scenario: "web", Protocol: ProtocolProtobuf, Timeout: 45 * time.Second,
			Env: []string{"OTEL_EXPORTER_OTLP_COMPRESSION=gzip"}})
		require.NoError(t, err)
		require.NotEmpty(t, res.Logs())
		for _, r := range res.Requests {
			assert.Equal(t, "gzip", r.ContentEncoding, r.Name())
		}
		assert.Contains(t, string(joined(res.Logs())), res.CLI.SessionID, "bodies are stored gunzipped")
	})

	t.Run("endpoint", func(t *testing.T) {
		t.Parallel()
		collector, err := NewServer()
		require.NoError(t, err)
		defer collector.Close()
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		defer cancel()
		res, err := Run(ctx, Config{Bin: bin, Scenario: "web", Protocol: ProtocolProtobuf, Endpoint: collector.URL(), Timeout: 45 * time.Second})
		require.NoError(t, err)
		assert.Empty(t, res.Requests, "nothing captured by the harness itself")
		wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
		defer wcancel()
		require.True(t, collector.Wait(wctx, 300*time.Millisecond), "logs and metrics at the external endpoint")
		assert.Contains(t, string(joined(signal(collector.Requests(), "logs"))), res.CLI.SessionID)
		assert.Empty(t, collector.Calls(), "the model stays on the harness")
	})
}

// TestRecord re-records the corpus layout with the real CLI when REALCLIENT_RECORD names an
// output folder: REALCLIENT_RECORD=/tmp/rec go test ./internal/realclient -run TestRecord -v.
// REALCLIENT_SCENARIOS (space separated) narrows the scenarios.
func TestRecord(t *testing.T) {
	out := os.Getenv("REALCLIENT_RECORD")
	if out == "" {
		t.Skip("realclient: set REALCLIENT_RECORD=DIR to record")
	}
	bin := installOrSkip(t)
	scens := RecordedScenarios()
	if s := os.Getenv("REALCLIENT_SCENARIOS"); s != "" {
		scens = strings.Fields(s)
	}
	for _, proto := range []Protocol{ProtocolJSON, ProtocolProtobuf} {
		for _, scen := range scens {
			res, err := Run(t.Context(), Config{Bin: bin, Scenario: scen, Protocol: proto})
			require.NoError(t, err)
			require.NoError(t, res.Save(filepath.Join(out, proto.Encoding(), scen)))
			t.Logf("%s/%s: %v, %d requests, events %v", proto.Encoding(), scen, res.Duration.Round(time.Millisecond), len(res.Requests), EventCounts(res.Requests))
		}
	}
}

func TestRunUnknownScenario(t *testing.T) {
	_, err := Run(t.Context(), Config{Scenario: "nosuch", Bin: "/nonexistent"})
	assert.True(t, errors.Is(err, ErrUnknownScenario), "%v", err)
}

func TestInstallUnavailable(t *testing.T) {
	t.Setenv("CLAUDE_BIN", "")
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	t.Setenv("PATH", t.TempDir()) // no npm
	_, err := Install(t.Context(), "0.0.0-none")
	assert.True(t, errors.Is(err, ErrUnavailable), "%v", err)
	assert.Contains(t, err.Error(), "npm")
}

func TestInstallBadCLAUDEBIN(t *testing.T) {
	t.Setenv("CLAUDE_BIN", filepath.Join(t.TempDir(), "claude"))
	_, err := Install(t.Context(), "")
	require.Error(t, err)
	assert.False(t, errors.Is(err, ErrUnavailable), "a wrong CLAUDE_BIN fails rather than skips")
}

func TestPrepareHome(t *testing.T) {
	home := filepath.Join(t.TempDir(), "jane.doe")
	work := filepath.Join(home, "Documents", "competitive-intel")
	require.NoError(t, os.MkdirAll(filepath.Join(home, ".claude", "stale"), 0o755))
	require.NoError(t, prepareHome(home, work, JaneDoe, "/bin/mcpcrm"))
	acct, err := os.ReadFile(filepath.Join(home, ".claude.json"))
	require.NoError(t, err)
	assert.Equal(t, `{"oauthAccount": {"accountUuid": "6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "emailAddress": "jane.doe@acme.example", `+
		`"organizationUuid": "0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9", "organizationName": "Acme Corp", "organizationRole": "user", `+
		`"displayName": "Jane Doe"}, "hasCompletedOnboarding": true}`, string(acct), "as record.sh writes it")
	mcp, err := os.ReadFile(filepath.Join(home, "mcp.json"))
	require.NoError(t, err)
	assert.Equal(t, `{"mcpServers": {"crm": {"type": "stdio", "command": "/bin/mcpcrm", "args": []}}}`, string(mcp))
	skill, err := os.ReadFile(filepath.Join(home, ".claude", "skills", "ci-report", "SKILL.md"))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(skill), "---\nname: ci-report\n"))
	assert.NoDirExists(t, filepath.Join(home, ".claude", "stale"))
	assert.DirExists(t, work)
}

func TestResultSave(t *testing.T) {
	dir := t.TempDir()
	r := &Result{
		CLI:      CLIResult{Raw: []byte(`{"session_id":"s"}`)},
		Requests: []Request{{Index: 7, Signal: "logs", ContentType: "application/json", Body: []byte("{}")}, {Index: 9, Signal: "metrics", ContentType: "application/x-protobuf", Body: []byte{1}}},
	}
	require.NoError(t, r.Save(dir))
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	assert.Equal(t, []string{"0007-logs.json", "0009-metrics.pb", "cli-result.json"}, names)
}

func TestMCPServerBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("realclient: -short set: not building mcpcrm")
	}
	bin, err := MCPServer(t.Context())
	require.NoError(t, err)
	again, err := MCPServer(t.Context())
	require.NoError(t, err)
	assert.Equal(t, bin, again, "built once per process")
	assert.FileExists(t, bin)
}

func TestProtocolEncoding(t *testing.T) {
	for p, want := range map[Protocol]string{"": "json", ProtocolJSON: "json", ProtocolProtobuf: "protobuf"} {
		assert.Equal(t, want, p.Encoding(), fmt.Sprint(p))
	}
	assert.Equal(t, corpus.Version, DefaultVersion)
}
