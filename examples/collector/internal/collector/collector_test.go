package collector_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/correlate"
	"github.com/coworkgov/cowork/examples/collector/internal/collector"
	"github.com/coworkgov/cowork/internal/corpus"
	"github.com/coworkgov/cowork/telemetry"
)

// secrets are the personal data the corpus prompts and tool inputs carry on purpose; strict
// redaction must keep every one of them out of the store.
var secrets = []string{
	"4111 1111 1111 1111", "4111111111111111",
	"jane.doe@acme.example", "sam.lee@acme.example", "priya.n@acme.example",
	"ceo@acme.example", "sam@globex.example",
}

func fastChains(dir string) collector.Config {
	return collector.Config{DataDir: dir, QuietPeriod: 100 * time.Millisecond, IdleTimeout: 500 * time.Millisecond}
}

func postBody(t *testing.T, url, path, ct string, body []byte, hdr ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+path, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", ct)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func getJSON(t *testing.T, url string, out any, hdr ...string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	if out != nil && resp.StatusCode == http.StatusOK {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(out))
	}
	return resp.StatusCode
}

func contentType(enc corpus.Encoding) string {
	if enc == corpus.JSON {
		return "application/json"
	}
	return "application/x-protobuf"
}

func decodeFile(t *testing.T, f corpus.File) *telemetry.Logs {
	t.Helper()
	var l *telemetry.Logs
	var err error
	if f.Encoding == corpus.JSON {
		l, err = telemetry.DecodeLogsJSON(f.Data)
	} else {
		l, err = telemetry.DecodeLogsProto(f.Data)
	}
	require.NoError(t, err)
	return l
}

// waitStored waits until the store holds want chains and none is open.
func waitStored(t *testing.T, c *collector.Collector, want int64) {
	t.Helper()
	require.Eventually(t, func() bool {
		s := apiStats(t, c)
		return s["chains"] >= want && s["open_chains"] == 0
	}, 20*time.Second, 50*time.Millisecond, "chains stored: %v, want %d", apiStats(t, c), want)
}

type apiChain struct {
	ID             string `json:"id"`
	PromptID       string `json:"prompt_id"`
	ParentPromptID string `json:"parent_prompt_id"`
	SessionID      string `json:"session_id"`
	User           struct {
		AccountUUID string `json:"account_uuid"`
		Email       string `json:"email"`
	} `json:"user"`
	StartedAt time.Time `json:"started_at"`
	EndedAt   time.Time `json:"ended_at"`
	Totals    struct {
		CostUSD      float64 `json:"cost_usd"`
		InputTokens  int64   `json:"input_tokens"`
		OutputTokens int64   `json:"output_tokens"`
		APIRequests  int     `json:"api_requests"`
		APIErrors    int     `json:"api_errors"`
		ToolCalls    int     `json:"tool_calls"`
		Rejected     int     `json:"rejected"`
	} `json:"totals"`
	Tools []struct {
		Name           string `json:"name"`
		MCPServer      string `json:"mcp_server"`
		MCPTool        string `json:"mcp_tool"`
		Decision       string `json:"decision"`
		DecisionSource string `json:"decision_source"`
		Success        *bool  `json:"success"`
		DurationMS     int64  `json:"duration_ms"`
	} `json:"tools"`
	Files []struct {
		Path      string `json:"path"`
		Operation string `json:"operation"`
	} `json:"files"`
	Version int `json:"version"`
	Events  []struct {
		Name       string         `json:"name"`
		Time       string         `json:"time"`
		Sequence   *int64         `json:"sequence"`
		Attributes map[string]any `json:"attributes"`
	} `json:"events"`
}

// TestCorpusPipeline sends every recorded scenario of the real CLI, in both encodings, through
// the collector with strict redaction and checks the promises: one chain per prompt.id, each
// session's chain costs adding up to the CLI's own total_cost_usd, the chain JSON shape, and
// no e-mail address or card number anywhere in the store's files.
func TestCorpusPipeline(t *testing.T) {
	dir := t.TempDir()
	c, url := start(t, fastChains(dir))
	var all []telemetry.Event
	for _, enc := range []corpus.Encoding{corpus.JSON, corpus.Protobuf} {
		for _, f := range corpus.Files(enc) {
			path := "/v1/" + f.Signal
			resp := postBody(t, url, path, contentType(enc), f.Data)
			require.Equal(t, http.StatusOK, resp.StatusCode, f.Path())
			if f.Signal == "logs" {
				all = append(all, decodeFile(t, f).Events()...)
			}
		}
	}
	want := correlate.Fold(all)
	waitStored(t, c, int64(len(want)))

	var list struct{ Chains []apiChain }
	require.Equal(t, http.StatusOK, getJSON(t, url+"/api/chains?limit=1000", &list))
	require.Len(t, list.Chains, len(want), "one chain per (session, prompt.id)")
	prompts := map[string]int{}
	cost := map[string]float64{}
	for _, ch := range list.Chains {
		if ch.PromptID != "" {
			prompts[ch.PromptID]++
		}
		cost[ch.SessionID] += ch.Totals.CostUSD
		assert.NotEmpty(t, ch.SessionID)
		assert.NotEmpty(t, ch.User.AccountUUID)
		assert.True(t, strings.HasPrefix(ch.User.Email, "email:"), "e-mail pseudonymised: %q", ch.User.Email)
		assert.False(t, ch.StartedAt.IsZero())
		assert.False(t, ch.EndedAt.Before(ch.StartedAt))
	}
	for p, n := range prompts {
		assert.Equal(t, 1, n, "prompt %s", p)
	}
	for _, enc := range []corpus.Encoding{corpus.JSON, corpus.Protobuf} {
		for _, scen := range corpus.Scenarios() {
			var cli struct {
				SessionID    string  `json:"session_id"`
				TotalCostUSD float64 `json:"total_cost_usd"`
			}
			require.NoError(t, json.Unmarshal(corpus.CLIResult(enc, scen), &cli))
			assert.InDelta(t, cli.TotalCostUSD, cost[cli.SessionID], 1e-9, "%s/%s: chain costs vs the CLI's total_cost_usd", enc, scen)
		}
	}

	// One chain in full, with its events.
	var mcp apiChain
	for _, ch := range list.Chains {
		for _, tl := range ch.Tools {
			if tl.MCPServer != "" {
				mcp = ch
			}
		}
	}
	require.NotEmpty(t, mcp.PromptID, "an MCP chain")
	var one apiChain
	require.Equal(t, http.StatusOK, getJSON(t, url+"/api/chains/"+mcp.PromptID+"?session="+mcp.SessionID, &one))
	assert.Equal(t, mcp.ID, one.ID)
	require.NotEmpty(t, one.Events)
	for _, ev := range one.Events {
		assert.NotEmpty(t, ev.Name)
		assert.NotEmpty(t, ev.Time)
		require.NotNil(t, ev.Sequence)
		assert.Equal(t, mcp.PromptID, ev.Attributes["prompt.id"])
	}
	assert.Equal(t, http.StatusNotFound, getJSON(t, url+"/api/chains/no-such-prompt", nil))

	// The stored chains are the batch fold's, field for field where it matters.
	byID := map[string]apiChain{}
	for _, ch := range list.Chains {
		byID[ch.ID] = ch
	}
	for _, w := range want {
		got, ok := byID[w.ID]
		if assert.True(t, ok, w.ID) {
			assert.Equal(t, w.ParentPromptID, got.ParentPromptID)
			assert.Equal(t, w.Totals.ToolCalls, got.Totals.ToolCalls)
			assert.Equal(t, w.Totals.Rejected, got.Totals.Rejected)
			assert.Equal(t, w.Totals.APIErrors, got.Totals.APIErrors)
			assert.Equal(t, w.Totals.InputTokens, got.Totals.InputTokens)
			assert.Len(t, got.Tools, len(w.Tools))
			assert.Len(t, got.Files, len(w.Files))
		}
	}

	var users struct {
		Users []struct {
			AccountUUID string  `json:"account_uuid"`
			CostUSD     float64 `json:"cost_usd"`
			Prompts     int64   `json:"prompts"`
			Rejected    int64   `json:"rejected"`
			Errors      int64   `json:"api_errors"`
		}
	}
	require.Equal(t, http.StatusOK, getJSON(t, url+"/api/users?since=2000-01-01", &users))
	require.NotEmpty(t, users.Users)
	var total, sum float64
	var rejected, errs int64
	for _, u := range users.Users {
		total += u.CostUSD
		rejected += u.Rejected
		errs += u.Errors
	}
	for _, v := range cost {
		sum += v
	}
	assert.InDelta(t, sum, total, 1e-9)
	assert.Positive(t, rejected, "the deny scenario's rejected call")
	assert.Positive(t, errs, "the fatal scenario's API error")
	var sessions struct{ Sessions []map[string]any }
	require.Equal(t, http.StatusOK, getJSON(t, url+"/api/sessions?limit=100", &sessions))
	assert.Len(t, sessions.Sessions, len(cost))

	// Nothing personal reached the disk: scan the database files byte for byte (after the
	// shutdown checkpoint, everything is in cowork.db).
	require.NoError(t, c.Shutdown(context.Background()))
	assertNoSecrets(t, dir)
}

func assertNoSecrets(t *testing.T, dir string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "cowork.db*"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, s := range secrets {
			assert.False(t, bytes.Contains(b, []byte(s)), "%s holds %q", filepath.Base(f), s)
		}
	}
	// And the same through SQL, where text could only be found decoded.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "cowork.db")+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	for _, q := range []string{`SELECT attributes FROM events`, `SELECT json FROM chains`, `SELECT email FROM sessions`, `SELECT attributes FROM metric_points`} {
		rows, err := db.Query(q)
		require.NoError(t, err)
		for rows.Next() {
			var s string
			require.NoError(t, rows.Scan(&s))
			for _, sec := range secrets {
				require.NotContains(t, s, sec, q)
			}
		}
		require.NoError(t, rows.Err())
		rows.Close()
	}
}

func TestRetriedRequestIsStoredOnce(t *testing.T) {
	c, url := start(t, fastChains(t.TempDir()))
	f := corpus.Logs(corpus.Protobuf, "files")[0]
	n := int64(decodeFile(t, f).Len())
	for range 3 {
		require.Equal(t, http.StatusOK, postBody(t, url, "/v1/logs", "application/x-protobuf", f.Data).StatusCode)
	}
	assert.Equal(t, n, storedEvents(t, c))
}

func TestTokenGuardsEverything(t *testing.T) {
	cfg := fastChains(t.TempDir())
	cfg.Token = "s3cret"
	_, url := start(t, cfg)
	f := corpus.Logs(corpus.JSON, "deny")[0]
	assert.Equal(t, http.StatusUnauthorized, postBody(t, url, "/v1/logs", "application/json", f.Data).StatusCode)
	assert.Equal(t, http.StatusUnauthorized, postBody(t, url, "/v1/logs", "application/json", f.Data, "Authorization", "Bearer wrong").StatusCode)
	assert.Equal(t, http.StatusOK, postBody(t, url, "/v1/logs", "application/json", f.Data, "Authorization", "Bearer s3cret").StatusCode)
	for _, p := range []string{"/api/health", "/api/chains", "/api/users", "/api/sessions", "/api/stats", "/metrics"} {
		assert.Equal(t, http.StatusUnauthorized, getJSON(t, url+p, nil), p)
		assert.Equal(t, http.StatusUnauthorized, getJSON(t, url+p, nil, "Authorization", "Bearer s3cre"), p)
		assert.Equal(t, http.StatusOK, getJSON(t, url+p, nil, "Authorization", "Bearer s3cret"), p)
	}
}

func TestAPIBadParameters(t *testing.T) {
	_, url := start(t, fastChains(t.TempDir()))
	for _, q := range []string{"/api/chains?since=yesterday", "/api/chains?limit=-1", "/api/users?until=x", "/api/sessions?limit=abc"} {
		assert.Equal(t, http.StatusBadRequest, getJSON(t, url+q, nil), q)
	}
	var h map[string]string
	assert.Equal(t, http.StatusOK, getJSON(t, url+"/api/health", &h))
	assert.Equal(t, "ok", h["status"])
}

func TestMetricsPage(t *testing.T) {
	_, url := start(t, fastChains(t.TempDir()))
	f := corpus.Logs(corpus.Protobuf, "mcp")[0]
	require.Equal(t, http.StatusOK, postBody(t, url, "/v1/logs", "application/x-protobuf", f.Data).StatusCode)
	require.Equal(t, http.StatusUnsupportedMediaType, postBody(t, url, "/v1/logs", "text/plain", f.Data).StatusCode)
	resp, err := http.Get(url + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	page := b.String()
	n := decodeFile(t, f).Len()
	assert.Contains(t, page, fmt.Sprintf("cowork_collector_events_stored_total %d\n", n))
	assert.Contains(t, page, `cowork_collector_requests_refused_total{reason="unsupported"} 1`)
	assert.Contains(t, page, "cowork_collector_write_queue_depth ")
	assert.Contains(t, page, `cowork_collector_ack_latency_seconds{quantile="0.99"}`)
	assert.Contains(t, page, "cowork_collector_checkpoints_total ")
	if runtime.GOOS != "windows" && runtime.GOOS != "plan9" && runtime.GOOS != "js" && runtime.GOOS != "wasip1" {
		assert.Regexp(t, `(?m)^process_cpu_seconds_total [0-9.e+-]+$`, page)
	}
	for _, s := range secrets {
		assert.NotContains(t, page, s)
	}
}

// TestResumeOpenChains stops the collector while chains are open and checks that the next
// start rebuilds and stores them.
func TestResumeOpenChains(t *testing.T) {
	dir := t.TempDir()
	cfg := fastChains(dir)
	cfg.QuietPeriod, cfg.IdleTimeout = time.Hour, time.Hour // nothing closes in the first run
	c, err := collector.New(context.Background(), cfg)
	require.NoError(t, err)
	var evs []telemetry.Event
	for _, f := range corpus.Logs(corpus.JSON, "task") {
		l := decodeFile(t, f)
		evs = append(evs, l.Events()...)
		require.NoError(t, c.ConsumeLogs(context.Background(), l))
	}
	require.Positive(t, apiStats(t, c)["open_chains"])
	require.Zero(t, apiStats(t, c)["chains"])
	require.NoError(t, c.Shutdown(context.Background()))

	c2, _ := start(t, fastChains(dir))
	want := correlate.Fold(evs)
	waitStored(t, c2, int64(len(want)))
	assert.Equal(t, int64(len(evs)), storedEvents(t, c2))
}
