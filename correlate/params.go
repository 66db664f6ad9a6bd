package correlate

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/coworkgov/cowork/telemetry"
)

// The fold reads a handful of string fields from tool_parameters and tool_input on every tool
// event. Parsing those documents into maps with encoding/json (telemetry.ParseToolParameters)
// costs more than the rest of the fold together, so the fold scans the top level of the
// object once instead, without allocating unless a value has escapes. The results match the
// telemetry views on every well-formed document (a fuzz target checks it); like
// telemetry.ParseToolInput, a document cut short yields the fields before the cut.

// toolFields are the fields the fold reads from a tool event's JSON.
type toolFields struct {
	fullCommand, skillName, subagentType, mcpServer, mcpTool string // tool_parameters
	filePath, notebookPath, path, pattern, skill             string // tool_input
}

// scanTopStrings calls f for every top-level key of a JSON object, in order, with its value
// as text: strings decoded, numbers and booleans as their literal text, null, objects and
// arrays as "". It stops when f returns false or the document ends (or breaks off).
func scanTopStrings(s string, f func(key, val string) bool) {
	i := skipWS(s, 0)
	if i >= len(s) || s[i] != '{' {
		return
	}
	i++
	for {
		i = skipWS(s, i)
		if i >= len(s) || s[i] != '"' {
			return
		}
		key, next, ok := readString(s, i)
		if !ok {
			return
		}
		i = skipWS(s, next)
		if i >= len(s) || s[i] != ':' {
			return
		}
		i = skipWS(s, i+1)
		if i >= len(s) {
			return
		}
		if s[i] == '"' {
			val, next, ok := readString(s, i)
			if !ok || !f(key, val) {
				return
			}
			i = next
		} else {
			next, ok := skipValue(s, i)
			if !ok {
				return
			}
			// Numbers and booleans read as their literal text, as telemetry's views do; null,
			// objects and arrays as "" (so a later duplicate key overrides, as in a map).
			lit := strings.TrimRight(s[i:next], " \t\r\n")
			if lit == "null" || s[i] == '{' || s[i] == '[' {
				lit = ""
			}
			if !f(key, lit) {
				return
			}
			i = next
		}
		i = skipWS(s, i)
		if i >= len(s) || s[i] != ',' {
			return
		}
		i++
	}
}

func skipWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// readString reads the JSON string starting at s[i] == '"'. Strings without escapes and with
// valid UTF-8 are returned as substrings; others go through encoding/json, so the result is
// exactly what encoding/json decodes.
func readString(s string, i int) (val string, next int, ok bool) {
	j := i + 1
	esc := false
	for ; j < len(s); j++ {
		c := s[j]
		if c == '\\' {
			esc = true
			j++
			continue
		}
		if c == '"' {
			break
		}
		if c < 0x20 {
			return "", 0, false
		}
	}
	if j >= len(s) {
		return "", 0, false
	}
	raw := s[i+1 : j]
	if !esc && utf8.ValidString(raw) {
		return raw, j + 1, true
	}
	if err := json.Unmarshal([]byte(s[i:j+1]), &val); err != nil {
		return "", 0, false
	}
	return val, j + 1, true
}

// skipValue skips the JSON value (not a string) starting at s[i]: a number, literal, object
// or array (strings inside are skipped with their escapes).
func skipValue(s string, i int) (int, bool) {
	depth := 0
	for ; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			_, next, ok := readString(s, i)
			if !ok {
				return 0, false
			}
			i = next - 1
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i, true
			}
			depth--
			if depth == 0 {
				return i + 1, true
			}
		case ',':
			if depth == 0 {
				return i, true
			}
		}
	}
	return 0, false
}

func scanToolParameters(s string, tf *toolFields) {
	if s == "" {
		return
	}
	scanTopStrings(s, func(k, v string) bool {
		switch k {
		case "full_command":
			tf.fullCommand = v
		case "skill_name":
			tf.skillName = v
		case "subagent_type":
			tf.subagentType = v
		case "mcp_server_name":
			tf.mcpServer = v
		case "mcp_tool_name":
			tf.mcpTool = v
		}
		return true
	})
}

func scanToolInput(s string, tf *toolFields) {
	if s == "" {
		return
	}
	scanTopStrings(s, func(k, v string) bool {
		switch k {
		case "file_path":
			tf.filePath = v
		case "notebook_path":
			tf.notebookPath = v
		case "path":
			tf.path = v
		case "pattern":
			tf.pattern = v
		case "skill":
			tf.skill = v
		}
		return true
	})
}

// fileTools mirrors telemetry's table of file tools: operation and the input key naming the
// path (tested against telemetry.(*ToolResult).FileAccess).
var fileTools = map[string]struct {
	op  telemetry.FileOp
	key string
}{
	"Read":         {telemetry.FileOpRead, "file_path"},
	"NotebookRead": {telemetry.FileOpRead, "notebook_path"},
	"Write":        {telemetry.FileOpWrite, "file_path"},
	"Edit":         {telemetry.FileOpEdit, "file_path"},
	"MultiEdit":    {telemetry.FileOpEdit, "file_path"},
	"NotebookEdit": {telemetry.FileOpEdit, "notebook_path"},
	"Glob":         {telemetry.FileOpSearch, "path"},
	"Grep":         {telemetry.FileOpSearch, "path"},
	"LS":           {telemetry.FileOpSearch, "path"},
}

// fileAccess is telemetry.(*ToolResult).FileAccess from already scanned input fields.
func fileAccess(tool, input string, tf *toolFields) (telemetry.FileAccess, bool) {
	ft, ok := fileTools[tool]
	if !ok || input == "" {
		return telemetry.FileAccess{}, false
	}
	fa := telemetry.FileAccess{Op: ft.op, Tool: tool, Pattern: tf.pattern}
	switch ft.key {
	case "file_path":
		fa.Path = tf.filePath
	case "notebook_path":
		fa.Path = tf.notebookPath
	case "path":
		fa.Path = tf.path
	}
	if fa.Path == "" && fa.Pattern == "" {
		return fa, false
	}
	return fa, true
}

// mcpCall is telemetry's MCP view from already scanned parameter fields.
func mcpCall(tool, params string, tf *toolFields) (telemetry.MCPCall, bool) {
	if rest, ok := strings.CutPrefix(tool, "mcp__"); ok {
		if server, t, ok := strings.Cut(rest, "__"); ok && server != "" && t != "" {
			return telemetry.MCPCall{Server: server, Tool: t}, true
		}
	}
	if params != "" && (tool == "mcp_tool" || strings.Contains(params, "mcp_server_name")) {
		if tf.mcpServer != "" || tf.mcpTool != "" {
			return telemetry.MCPCall{Server: tf.mcpServer, Tool: tf.mcpTool}, true
		}
	}
	if tool == "mcp_tool" {
		return telemetry.MCPCall{}, true
	}
	return telemetry.MCPCall{}, false
}
