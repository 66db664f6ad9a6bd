package realclient

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pymock points TestMockGolden at a running shared/realclient/mock_anthropic.py, whose answers
// then become the golden files:
//
//	python3 mock_anthropic.py /tmp/dump 8765 & go test ./internal/realclient -run TestMockGolden -pymock http://127.0.0.1:8765
var pymock = flag.String("pymock", "", "base URL of a running mock_anthropic.py; rewrites testdata/mock from its answers")

// exchange is one request of the golden sequence.
type exchange struct {
	name, method, path, ct string
	gzip                   bool
	body                   string
}

// messagesBody builds a Messages API request body.
func messagesBody(stream bool, first string, results int, tools ...string) string {
	type tool struct {
		Name string `json:"name"`
	}
	msgs := []any{map[string]any{"role": "user", "content": []any{
		map[string]any{"type": "text", "text": "<system-reminder>context</system-reminder>"},
		map[string]any{"type": "text", "text": first},
	}}}
	for i := range results {
		msgs = append(msgs,
			map[string]any{"role": "assistant", "content": []any{map[string]any{"type": "tool_use", "id": fmt.Sprint("toolu_", i), "name": "X", "input": map[string]any{}}}},
			map[string]any{"role": "user", "content": []any{map[string]any{"type": "tool_result", "tool_use_id": fmt.Sprint("toolu_", i), "content": "ok"}}},
		)
	}
	var ts []tool
	for _, t := range tools {
		ts = append(ts, tool{t})
	}
	req := map[string]any{"model": "claude-sonnet-5-5", "stream": stream, "messages": msgs}
	if len(ts) > 0 {
		req["tools"] = ts
	}
	b, _ := json.Marshal(req)
	return string(b)
}

var goldenSequence = []exchange{
	{name: "get", method: "GET", path: "/api/hello"},
	{name: "files-0-stream", method: "POST", path: "/v1/messages?beta=true", ct: "application/json",
		body: messagesBody(true, "scenario:files workdir:/w/ci Please do the files task. café", 0, "Read", "Write")},
	{name: "files-2-plain", method: "POST", path: "/v1/messages", ct: "application/json",
		body: messagesBody(false, "scenario:files workdir:/w/ci", 2, "Read", "Write")},
	{name: "files-5-done", method: "POST", path: "/v1/messages?beta=true", ct: "application/json",
		body: messagesBody(true, "scenario:files workdir:/w/ci", 5, "Read")},
	{name: "files-no-tools", method: "POST", path: "/v1/messages?beta=true", ct: "application/json",
		body: messagesBody(true, "scenario:files workdir:/w/ci", 0)},
	{name: "deny-0-string-prompt", method: "POST", path: "/v1/messages?beta=true", ct: "application/json",
		body: `{"model":"m","stream":true,"tools":[{"name":"Bash"}],"messages":[{"role":"user","content":"scenario:deny workdir:/home/u/w go"}]}`},
	{name: "mcp-1", method: "POST", path: "/v1/messages?beta=true", ct: "application/json",
		body: messagesBody(true, "scenario:mcp workdir:/w", 1, "mcp__crm__lookup_account")},
	{name: "web-0-no-model", method: "POST", path: "/v1/messages", ct: "application/json",
		body: `{"stream":true,"tools":[{"name":"WebFetch"}],"messages":[{"role":"user","content":[{"type":"text","text":"scenario:web"}]}]}`},
	{name: "fatal", method: "POST", path: "/v1/messages?beta=true", ct: "application/json",
		body: messagesBody(true, "scenario:fatal workdir:/w", 0, "Read")},
	{name: "count-tokens", method: "POST", path: "/v1/messages/count_tokens?beta=true", ct: "application/json", body: `{"messages":[]}`},
	{name: "otlp-logs-json", method: "POST", path: "/v1/logs", ct: "application/json", body: `{"resourceLogs":[]}`},
	{name: "otlp-metrics-pb-gzip", method: "POST", path: "/v1/metrics", ct: "application/x-protobuf", gzip: true, body: "\x0a\x00"},
	{name: "unknown-scenario", method: "POST", path: "/v1/messages", ct: "application/json",
		body: messagesBody(true, "scenario:nosuch", 0, "Read")},
}

// TestMockGolden sends a fixed sequence of requests and compares status, content type and body
// with what mock_anthropic.py answered to the same sequence (testdata/mock/NAME.txt).
func TestMockGolden(t *testing.T) {
	base := *pymock
	if base == "" {
		srv := httptest.NewServer(NewHandler())
		defer srv.Close()
		base = srv.URL
	}
	for _, ex := range goldenSequence {
		body := []byte(ex.body)
		if ex.gzip {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			_, _ = zw.Write(body)
			require.NoError(t, zw.Close())
			body = b.Bytes()
		}
		req, err := http.NewRequest(ex.method, base+ex.path, bytes.NewReader(body))
		require.NoError(t, err)
		if ex.ct != "" {
			req.Header.Set("Content-Type", ex.ct)
		}
		if ex.gzip {
			req.Header.Set("Content-Encoding", "gzip")
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err, ex.name)
		got, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		resp.Body.Close()
		text := fmt.Sprintf("%d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), got)
		file := filepath.Join("testdata", "mock", ex.name+".txt")
		if *pymock != "" {
			require.NoError(t, os.MkdirAll(filepath.Dir(file), 0o755))
			require.NoError(t, os.WriteFile(file, []byte(text), 0o644))
			continue
		}
		want, err := os.ReadFile(file)
		require.NoError(t, err)
		assert.Equal(t, string(want), text, ex.name)
	}
}

// sse splits a server-sent-events body into event names and decoded data.
func sse(t *testing.T, body []byte) (names []string, data []map[string]any) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			names = append(names, strings.TrimPrefix(line, "event: "))
		case strings.HasPrefix(line, "data: "):
			var m map[string]any
			require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &m))
			data = append(data, m)
		}
	}
	require.Len(t, data, len(names))
	return names, data
}

func post(t *testing.T, url, path, body string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Post(url+path, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

// TestMockScenarioSteps walks every built-in scenario: one tool_use per step in order, with
// the workdir filled in and the python mock's usage numbers, then the closing text.
func TestMockScenarioSteps(t *testing.T) {
	for _, sc := range Scenarios() {
		if sc.Fatal {
			continue
		}
		t.Run(sc.Name, func(t *testing.T) {
			srv := httptest.NewServer(NewHandler())
			defer srv.Close()
			first := 1          // the arrival number of the first call
			if sc.After != "" { // its closing text waits for that scenario's
				post(t, srv.URL, "/v1/messages", messagesBody(false, "scenario:"+sc.After, 99, "Bash"))
				first++
			}
			for done := 0; done <= len(sc.Steps); done++ {
				resp, body := post(t, srv.URL, "/v1/messages?beta=true",
					messagesBody(true, "scenario:"+sc.Name+" workdir:/home/x/w more", done, "Bash", "Read"))
				require.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
				names, data := sse(t, body)
				assert.Equal(t, []string{"message_start", "content_block_start", "content_block_delta",
					"content_block_stop", "message_delta", "message_stop"}, names)
				usage := data[0]["message"].(map[string]any)["usage"].(map[string]any)
				assert.EqualValues(t, 1200+100*done, usage["input_tokens"])
				assert.EqualValues(t, 1, usage["output_tokens"])
				assert.EqualValues(t, 300, usage["cache_read_input_tokens"])
				assert.EqualValues(t, 50, usage["cache_creation_input_tokens"])
				assert.EqualValues(t, 80, data[4]["usage"].(map[string]any)["output_tokens"])
				block := data[1]["content_block"].(map[string]any)
				stop := data[4]["delta"].(map[string]any)["stop_reason"]
				if done == len(sc.Steps) {
					assert.Equal(t, "text", block["type"])
					assert.Equal(t, "end_turn", stop)
					assert.Equal(t, closingText, data[2]["delta"].(map[string]any)["text"])
					continue
				}
				assert.Equal(t, "tool_use", block["type"])
				assert.Equal(t, sc.Steps[done].Tool, block["name"])
				assert.Equal(t, fmt.Sprintf("toolu_%04d", done+first), block["id"])
				assert.Equal(t, "tool_use", stop)
				partial := data[2]["delta"].(map[string]any)["partial_json"].(string)
				assert.True(t, json.Valid([]byte(partial)), partial)
				assert.NotContains(t, partial, Workdir)
				if strings.Contains(sc.Steps[done].Input, Workdir) {
					assert.Contains(t, partial, "/home/x/w")
				}
			}
		})
	}
}

// TestMockAfter checks that a subagent's closing text waits until its parent's conversation
// has asked for its own, and that its tool calls do not.
func TestMockAfter(t *testing.T) {
	h := NewHandler()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, _ := post(t, srv.URL, "/v1/messages", messagesBody(false, "scenario:subagent", 0, "Bash"))
	require.Equal(t, http.StatusOK, resp.StatusCode, "a step does not wait")
	done := make(chan []byte, 1)
	go func() {
		resp, err := http.Post(srv.URL+"/v1/messages", "application/json", strings.NewReader(messagesBody(false, "scenario:subagent", 1, "Bash")))
		if err != nil {
			done <- nil
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		done <- b
	}()
	select {
	case <-done:
		t.Fatal("the subagent's closing text was sent before its parent's turn ended")
	case <-time.After(200 * time.Millisecond):
	}
	_, body := post(t, srv.URL, "/v1/messages", messagesBody(false, "scenario:agent", 1, "Agent", "Glob"))
	assert.Contains(t, string(body), `"Glob"`, "the parent's step does not release it")
	select {
	case <-done:
		t.Fatal("released by the parent's step")
	case <-time.After(200 * time.Millisecond):
	}
	_, body = post(t, srv.URL, "/v1/messages", messagesBody(false, "scenario:agent", 2, "Agent", "Glob"))
	assert.Contains(t, string(body), closingText)
	select {
	case b := <-done:
		assert.Contains(t, string(b), closingText)
	case <-time.After(10 * time.Second):
		t.Fatal("the subagent's closing text was not released by its parent's")
	}
	calls := h.Calls()
	require.Len(t, calls, 4)
	assert.Equal(t, []string{"subagent", "agent", "agent", "subagent"}, []string{calls[0].Scenario, calls[1].Scenario, calls[2].Scenario, calls[3].Scenario})
}

func TestMockFatal(t *testing.T) {
	h := NewHandler()
	srv := httptest.NewServer(h)
	defer srv.Close()
	for range 2 { // every call fails, retries included
		resp, body := post(t, srv.URL, "/v1/messages?beta=true", messagesBody(true, "scenario:fatal", 0, "Read"))
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		var e struct {
			Type  string `json:"type"`
			Error struct {
				Type    string `json:"type"`
				Message string `json:"message"`
			} `json:"error"`
		}
		require.NoError(t, json.Unmarshal(body, &e))
		assert.Equal(t, "error", e.Type)
		assert.Equal(t, "invalid_request_error", e.Error.Type)
		assert.Contains(t, e.Error.Message, "prompt is too long")
	}
	calls := h.Calls()
	require.Len(t, calls, 2)
	assert.Equal(t, "error", calls[0].Reply)
	assert.Equal(t, "fatal", calls[0].Scenario)
}

func TestMockCustomScenario(t *testing.T) {
	h := NewHandler(Scenario{Name: "agent2", Steps: []Step{{Tool: "Agent", Input: `{"prompt": "in @W@"}`}}})
	srv := httptest.NewServer(h)
	defer srv.Close()
	_, body := post(t, srv.URL, "/v1/messages", messagesBody(false, "scenario:agent2 workdir:/w", 0, "Agent"))
	var m struct {
		Content []struct {
			Name  string          `json:"name"`
			Input json.RawMessage `json:"input"`
		} `json:"content"`
		StopReason string `json:"stop_reason"`
	}
	require.NoError(t, json.Unmarshal(body, &m))
	require.Len(t, m.Content, 1)
	assert.Equal(t, "Agent", m.Content[0].Name)
	assert.JSONEq(t, `{"prompt": "in /w"}`, string(m.Content[0].Input))
	assert.Equal(t, "tool_use", m.StopReason)
}

func TestCapture(t *testing.T) {
	s, err := NewServer()
	require.NoError(t, err)
	defer s.Close()
	assert.True(t, strings.HasPrefix(s.URL(), "http://127.0.0.1:"))

	_, _ = post(t, s.URL(), "/v1/messages/count_tokens", `{}`) // counts as arrival 1
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte("\x0a\x02\x08\x01"))
	require.NoError(t, zw.Close())
	req, _ := http.NewRequest("POST", s.URL()+"/v1/logs", &gz)
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Empty(t, b)
	assert.Equal(t, "application/x-protobuf", resp.Header.Get("Content-Type"))
	resp, body := post(t, s.URL(), "/v1/metrics?x=1", `{"resourceMetrics":[]}`)
	assert.Equal(t, "{}", string(body))
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))

	reqs := s.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, Request{Index: 2, Signal: "logs", Path: "/v1/logs", ContentType: "application/x-protobuf",
		ContentEncoding: "gzip", Body: []byte("\x0a\x02\x08\x01"), Received: reqs[0].Received}, reqs[0])
	assert.Equal(t, "0002-logs.pb", reqs[0].Name())
	assert.Equal(t, "0003-metrics.json", reqs[1].Name())
	assert.Equal(t, "/v1/metrics?x=1", reqs[1].Path)

	ctx := t.Context()
	assert.True(t, s.Wait(ctx, 0), "both signals arrived")
}

func TestCountEvents(t *testing.T) {
	json := []byte(`{"scope":{"name":"com.anthropic.claude_code.events"},"body":{"stringValue":"claude_code.api_request"},` +
		`"x":"claude_code.api_request","m":"claude_code.cost.usage","y":"claude_code.tool_result"}`)
	pb := []byte("\x0a\x20com.anthropic.claude_code.events\x2a\x19\x0a\x17claude_code.api_request2\x05claude_code.cost.usage")
	assert.Equal(t, map[string]int{"api_request": 2, "tool_result": 1}, CountEvents(json))
	assert.Equal(t, map[string]int{"api_request": 1}, CountEvents(pb))
	assert.Empty(t, CountEvents(nil, []byte("claude_code."), []byte(`"claude_code.`)))
}

func TestUserFor(t *testing.T) {
	assert.Equal(t, "jane.doe", UserFor("files").Login)
	assert.Equal(t, "sam.lee", UserFor("agent").Login)
	assert.Equal(t, "priya.n", UserFor("fatal").Login)
	assert.Equal(t, "Jane Doe", JaneDoe.DisplayName)
}
