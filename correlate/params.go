package correlate

import (
	"strings"
	"unicode/utf8"

	"github.com/coworkgov/cowork/internal/jsonstr"
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
	scanTop(s, func(key string, v jsonText) bool { return f(key, v.text()) })
}

// jsonText is a top-level value found by scanTop, decoded only when text is called: most
// values are never read, and a string with escapes costs an allocation to decode.
type jsonText struct {
	raw string // a string's contents between the quotes, or a literal's text
	esc bool   // raw is a string's contents with a backslash
}

// text returns the value as scanTopStrings documents it: exactly what encoding/json decodes
// for a string.
func (v jsonText) text() string {
	if !v.esc && utf8.ValidString(v.raw) {
		return v.raw
	}
	return unquote(v.raw)
}

// scanTop is scanTopStrings with values decoded on demand.
func scanTop(s string, f func(key string, v jsonText) bool) {
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
			val, next, ok := scanString(s, i)
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
			if !f(key, jsonText{raw: lit}) {
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

// readString reads and decodes the JSON string starting at s[i] == '"': the result is exactly
// what encoding/json decodes, and ok is false where encoding/json reports a syntax error.
func readString(s string, i int) (val string, next int, ok bool) {
	v, next, ok := scanString(s, i)
	if !ok {
		return "", 0, false
	}
	return v.text(), next, true
}

// scanString finds the end of the JSON string starting at s[i] == '"' and checks it as
// encoding/json's scanner does (no control characters, only valid escapes), without decoding.
func scanString(s string, i int) (v jsonText, next int, ok bool) {
	j := i + 1
	esc := false
	for ; j < len(s); j++ {
		c := s[j]
		if c == '\\' {
			if j+1 >= len(s) {
				return jsonText{}, 0, false
			}
			switch s[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j++
			case 'u':
				if j+6 > len(s) || !isHex(s[j+2]) || !isHex(s[j+3]) || !isHex(s[j+4]) || !isHex(s[j+5]) {
					return jsonText{}, 0, false
				}
				j += 5
			default:
				return jsonText{}, 0, false
			}
			esc = true
			continue
		}
		if c == '"' {
			break
		}
		if c < 0x20 {
			return jsonText{}, 0, false
		}
	}
	if j >= len(s) {
		return jsonText{}, 0, false
	}
	return jsonText{raw: s[i+1 : j], esc: esc}, j + 1, true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// unquote decodes a string body that scanString has checked, as encoding/json would.
func unquote(raw string) string {
	v, _ := jsonstr.Unquote(raw) // scanString has checked the escapes
	return v
}

// skipValue skips the JSON value (not a string) starting at s[i]: a number, literal, object
// or array (strings inside are skipped with their escapes).
func skipValue(s string, i int) (int, bool) {
	depth := 0
	for ; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			_, next, ok := scanString(s, i)
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
	scanTop(s, func(k string, v jsonText) bool {
		switch k {
		case "full_command":
			tf.fullCommand = v.text()
		case "skill_name":
			tf.skillName = v.text()
		case "subagent_type":
			tf.subagentType = v.text()
		case "mcp_server_name":
			tf.mcpServer = v.text()
		case "mcp_tool_name":
			tf.mcpTool = v.text()
		}
		return true
	})
}

func scanToolInput(s string, tf *toolFields) {
	if s == "" {
		return
	}
	scanTop(s, func(k string, v jsonText) bool {
		switch k {
		case "file_path":
			tf.filePath = v.text()
		case "notebook_path":
			tf.notebookPath = v.text()
		case "path":
			tf.path = v.text()
		case "pattern":
			tf.pattern = v.text()
		case "skill":
			tf.skill = v.text()
		}
		return true
	})
}

// fileToolOf mirrors telemetry's table of file tools: operation and the input key naming the
// path (tested against telemetry.(*ToolResult).FileAccess). A switch, not a map: the fold asks
// for every tool event.
func fileToolOf(name string) (fileTool, bool) {
	switch name {
	case "Read":
		return fileTool{telemetry.FileOpRead, "file_path"}, true
	case "NotebookRead":
		return fileTool{telemetry.FileOpRead, "notebook_path"}, true
	case "Write":
		return fileTool{telemetry.FileOpWrite, "file_path"}, true
	case "Edit", "MultiEdit":
		return fileTool{telemetry.FileOpEdit, "file_path"}, true
	case "NotebookEdit":
		return fileTool{telemetry.FileOpEdit, "notebook_path"}, true
	case "Glob", "Grep", "LS":
		return fileTool{telemetry.FileOpSearch, "path"}, true
	}
	return fileTool{}, false
}

func isFileTool(name string) bool {
	_, ok := fileToolOf(name)
	return ok
}

// fileTool is a file tool's operation and the tool_input key naming the path.
type fileTool struct {
	op  telemetry.FileOp
	key string
}

// fileAccess is telemetry.(*ToolResult).FileAccess from already scanned input fields.
func fileAccess(tool, input string, tf *toolFields) (telemetry.FileAccess, bool) {
	ft, ok := fileToolOf(tool)
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
	// The fields first: they are rarely set, and the search reads the whole document.
	if (tf.mcpServer != "" || tf.mcpTool != "") && params != "" &&
		(tool == "mcp_tool" || strings.Contains(params, "mcp_server_name")) {
		return telemetry.MCPCall{Server: tf.mcpServer, Tool: tf.mcpTool}, true
	}
	if tool == "mcp_tool" {
		return telemetry.MCPCall{}, true
	}
	return telemetry.MCPCall{}, false
}
