package realclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"time"

	"github.com/coworkgov/cowork/internal/realclient/internal/pyjson"
)

var (
	scenarioRE = regexp.MustCompile(`scenario:(\w+)`)
	workdirRE  = regexp.MustCompile(`workdir:(\S+)`)
)

// The fatal scenario's error, the body of every HTTP 400 it answers.
const fatalBody = `{"type": "error", "error": {"type": "invalid_request_error", "message": "prompt is too long: 250000 tokens > 200000 maximum"}}`

// closingText is the model's answer once the scenario's steps are done.
const closingText = "Finished: summary for the competitive intelligence report."

// messagesRequest is the part of a Messages API request the stand-in reads.
type messagesRequest struct {
	Model    string `json:"model"`
	Stream   bool   `json:"stream"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Tools []struct {
		Name string `json:"name"`
	} `json:"tools"`
}

type block struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// blocks returns the content's blocks, or nil and false when it is a string or absent.
func blocks(raw json.RawMessage) ([]block, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '[' {
		return nil, false
	}
	var out []block
	if json.Unmarshal(raw, &out) != nil {
		return nil, false
	}
	return out, true
}

// firstUserText returns the first user string content, or the first user text block that
// contains "scenario:", as mock_anthropic.py's first_user_text does.
func firstUserText(req *messagesRequest) string {
	for _, m := range req.Messages {
		if m.Role != "user" {
			continue
		}
		var s string
		if json.Unmarshal(m.Content, &s) == nil {
			return s
		}
		bs, _ := blocks(m.Content)
		for _, b := range bs {
			if b.Type == "text" && bytes.Contains([]byte(b.Text), []byte("scenario:")) {
				return b.Text
			}
		}
	}
	return ""
}

// toolResults counts the tool_result blocks of the conversation.
func toolResults(req *messagesRequest) int {
	n := 0
	for _, m := range req.Messages {
		bs, _ := blocks(m.Content)
		for _, b := range bs {
			if b.Type == "tool_result" {
				n++
			}
		}
	}
	return n
}

// messages answers one Messages API call, number k.
func (s *Server) messages(ctx context.Context, w http.ResponseWriter, k int, body []byte) {
	var req messagesRequest
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, &req); err != nil {
		// The python mock drops the connection here; a 400 is kinder to the client.
		s.log.Warn("realclient: bad Messages request", "err", err)
		s.record(Call{Index: k, Status: http.StatusBadRequest, Reply: "error"})
		reply(w, http.StatusBadRequest, "application/json", []byte(`{}`))
		return
	}
	text := firstUserText(&req)
	name := ""
	if m := scenarioRE.FindStringSubmatch(text); m != nil {
		name = m[1]
	}
	call := Call{Index: k, Scenario: name, Model: req.Model, Done: toolResults(&req), Stream: req.Stream}
	for _, t := range req.Tools {
		call.Tools = append(call.Tools, t.Name)
	}
	scen := s.scen[name]
	if scen.Fatal {
		call.Status, call.Reply = http.StatusBadRequest, "error"
		s.record(call)
		reply(w, http.StatusBadRequest, "application/json", []byte(fatalBody))
		return
	}
	wd := os.Getenv("MOCK_WORKDIR")
	if wd == "" {
		wd = "/tmp"
	}
	if m := workdirRE.FindStringSubmatch(text); m != nil {
		wd = m[1]
	}
	steps := scen.steps(wd)
	model := req.Model
	if model == "" {
		model = "claude-x"
	}
	var content []pyjson.Object
	stop := "end_turn"
	// mock_anthropic.py has a second branch for "tools offered but the step's tool missing"
	// under the same condition as the first, so it never runs; the CLI answers a call of an
	// unknown tool with an error tool_result instead, which moves the scenario on.
	if len(call.Tools) > 0 && call.Done < len(steps) {
		st := steps[call.Done]
		content = []pyjson.Object{{
			{Key: "type", Value: "tool_use"},
			{Key: "id", Value: fmt.Sprintf("toolu_%04d", k)},
			{Key: "name", Value: st.name},
			{Key: "input", Value: st.input},
		}}
		stop, call.Reply = "tool_use", st.name
	} else {
		s.markClosed(name)
		if scen.After != "" {
			s.awaitClosed(ctx, scen.After)
		}
		content = []pyjson.Object{{{Key: "type", Value: "text"}, {Key: "text", Value: closingText}}}
		call.Reply = "text"
	}
	call.Status = http.StatusOK
	s.record(call)
	usage := func(output int) pyjson.Object {
		return pyjson.Object{
			{Key: "input_tokens", Value: 1200 + call.Done*100},
			{Key: "output_tokens", Value: output},
			{Key: "cache_read_input_tokens", Value: 300},
			{Key: "cache_creation_input_tokens", Value: 50},
		}
	}
	msg := func(content any, stop any, output int) pyjson.Object {
		return pyjson.Object{
			{Key: "id", Value: fmt.Sprintf("msg_%d", k)},
			{Key: "type", Value: "message"},
			{Key: "role", Value: "assistant"},
			{Key: "model", Value: model},
			{Key: "content", Value: content},
			{Key: "stop_reason", Value: stop},
			{Key: "stop_sequence", Value: nil},
			{Key: "usage", Value: usage(output)},
		}
	}
	if !req.Stream {
		out, err := pyjson.Marshal(msg(content, stop, 80))
		s.replyJSON(w, "application/json", out, err)
		return
	}
	out, err := stream(msg([]any{}, nil, 1), content, stop)
	s.replyJSON(w, "text/event-stream", out, err)
}

func (s *Server) replyJSON(w http.ResponseWriter, ct string, out []byte, err error) {
	if err != nil { // a bug in a scenario's Input, not in the request
		s.log.Error("realclient: encode reply", "err", err)
		reply(w, http.StatusInternalServerError, "application/json", []byte(`{}`))
		return
	}
	reply(w, http.StatusOK, ct, out)
}

func (s *Server) record(c Call) {
	c.Received = time.Now()
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.mu.Unlock()
}

// stream renders the reply as the python mock's server-sent events, all in one body.
func stream(start pyjson.Object, content []pyjson.Object, stop string) ([]byte, error) {
	var out bytes.Buffer
	var err error
	ev := func(name string, data pyjson.Object) {
		if err != nil {
			return
		}
		var b []byte
		b, err = pyjson.Marshal(data)
		fmt.Fprintf(&out, "event: %s\ndata: %s\n\n", name, b)
	}
	ev("message_start", pyjson.Object{{Key: "type", Value: "message_start"}, {Key: "message", Value: start}})
	for i, b := range content {
		get := func(k string) any {
			for _, m := range b {
				if m.Key == k {
					return m.Value
				}
			}
			return nil
		}
		var first, delta pyjson.Object
		if get("type") == "text" {
			first = pyjson.Object{{Key: "type", Value: "text"}, {Key: "text", Value: ""}}
			delta = pyjson.Object{{Key: "type", Value: "text_delta"}, {Key: "text", Value: get("text")}}
		} else {
			input, e := pyjson.Marshal(get("input"))
			if e != nil {
				return nil, e
			}
			first = pyjson.Object{{Key: "type", Value: "tool_use"}, {Key: "id", Value: get("id")}, {Key: "name", Value: get("name")}, {Key: "input", Value: pyjson.Object{}}}
			delta = pyjson.Object{{Key: "type", Value: "input_json_delta"}, {Key: "partial_json", Value: string(input)}}
		}
		ev("content_block_start", pyjson.Object{{Key: "type", Value: "content_block_start"}, {Key: "index", Value: i}, {Key: "content_block", Value: first}})
		ev("content_block_delta", pyjson.Object{{Key: "type", Value: "content_block_delta"}, {Key: "index", Value: i}, {Key: "delta", Value: delta}})
		ev("content_block_stop", pyjson.Object{{Key: "type", Value: "content_block_stop"}, {Key: "index", Value: i}})
	}
	ev("message_delta", pyjson.Object{
		{Key: "type", Value: "message_delta"},
		{Key: "delta", Value: pyjson.Object{{Key: "stop_reason", Value: stop}, {Key: "stop_sequence", Value: nil}}},
		{Key: "usage", Value: pyjson.Object{{Key: "output_tokens", Value: 80}}},
	})
	ev("message_stop", pyjson.Object{{Key: "type", Value: "message_stop"}})
	if err != nil {
		return nil, fmt.Errorf("realclient: encode event: %w", err)
	}
	return out.Bytes(), nil
}
