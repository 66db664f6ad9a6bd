// Command mcpcrm is a minimal stdio MCP server exposing one tool, lookup_account, for the
// real-client harness's mcp scenario. It is the Go port of shared/realclient/mcp_crm.py and
// answers byte for byte as that script does: one JSON-RPC message per line in, one per line
// out, lines that are not JSON ignored, unknown requests answered with an empty result and
// notifications (no id) left unanswered.
//
// The harness builds it with go build at run time; it is not meant to be installed.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/coworkgov/cowork/internal/realclient/internal/pyjson"
)

func main() {
	if err := serve(os.Stdin, os.Stdout); err != nil {
		slog.Error("mcpcrm", "err", err)
		os.Exit(1)
	}
}

// message is the part of a JSON-RPC request the server reads.
type message struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

// serve answers the JSON-RPC lines read from r on w until r ends.
func serve(r io.Reader, w io.Writer) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var m message
		if json.Unmarshal(sc.Bytes(), &m) != nil {
			continue
		}
		result, ok := answer(m)
		if !ok {
			continue
		}
		out, err := pyjson.Marshal(pyjson.Object{
			{Key: "jsonrpc", Value: "2.0"},
			{Key: "id", Value: id(m.ID)},
			{Key: "result", Value: result},
		})
		if err != nil {
			return fmt.Errorf("mcpcrm: encode reply: %w", err)
		}
		if _, err := w.Write(append(out, '\n')); err != nil {
			return fmt.Errorf("mcpcrm: write reply: %w", err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("mcpcrm: read: %w", err)
	}
	return nil
}

// id returns the request id for the reply: the raw id, or nil when absent or null.
func id(raw json.RawMessage) any {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return raw
}

// answer returns the result for m, or false when m gets no reply.
func answer(m message) (any, bool) {
	var params struct {
		ProtocolVersion *string        `json:"protocolVersion"`
		Arguments       map[string]any `json:"arguments"`
	}
	_ = json.Unmarshal(m.Params, &params) // absent or odd params read as empty, as .get does
	switch m.Method {
	case "initialize":
		v := "2024-11-05"
		if params.ProtocolVersion != nil {
			v = *params.ProtocolVersion
		}
		return pyjson.Object{
			{Key: "protocolVersion", Value: v},
			{Key: "capabilities", Value: pyjson.Object{{Key: "tools", Value: pyjson.Object{}}}},
			{Key: "serverInfo", Value: pyjson.Object{{Key: "name", Value: "crm"}, {Key: "version", Value: "1.0.0"}}},
		}, true
	case "tools/list":
		schema := pyjson.Object{
			{Key: "type", Value: "object"},
			{Key: "properties", Value: pyjson.Object{
				{Key: "account", Value: pyjson.Object{{Key: "type", Value: "string"}}},
				{Key: "owner_email", Value: pyjson.Object{{Key: "type", Value: "string"}}},
			}},
			{Key: "required", Value: []string{"account"}},
		}
		return pyjson.Object{{Key: "tools", Value: []pyjson.Object{{
			{Key: "name", Value: "lookup_account"},
			{Key: "description", Value: "Look up a CRM account"},
			{Key: "inputSchema", Value: schema},
		}}}}, true
	case "tools/call":
		text := fmt.Sprintf("Account %s: ARR $1.2M, owner jane@acme.example", pyStr(params.Arguments["account"]))
		return pyjson.Object{{Key: "content", Value: []pyjson.Object{{
			{Key: "type", Value: "text"},
			{Key: "text", Value: text},
		}}}}, true
	}
	if id(m.ID) != nil {
		return pyjson.Object{}, true
	}
	return nil, false
}

// pyStr formats v as Python's f-string would for the JSON value types.
func pyStr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case string:
		return x
	case bool:
		if x {
			return "True"
		}
		return "False"
	default:
		return fmt.Sprint(x)
	}
}
