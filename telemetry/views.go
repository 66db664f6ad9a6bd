package telemetry

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/coworkgov/cowork/internal/jsonstr"
)

// ToolParameters is the parsed tool_parameters JSON of a [ToolResult] or [ToolDecision]: a
// summary the CLI writes for Bash, PowerShell, MCP, Skill and Agent calls (SCHEMA.md §4.3.1).
type ToolParameters struct {
	BashCommand               string // bash_command: the program, e.g. "ls"
	FullCommand               string // full_command: the whole command line (sensitive)
	Description               string // description
	Timeout                   int64  // timeout in milliseconds
	DangerouslyDisableSandbox bool   // dangerouslyDisableSandbox
	GitCommitID               string // git_commit_id, after a successful git commit
	GitBranch                 string // git_branch, after a successful git commit
	MCPServerName             string // mcp_server_name
	MCPToolName               string // mcp_tool_name
	SkillName                 string // skill_name
	SubagentType              string // subagent_type
	// Raw holds every key of the JSON object, including the ones above.
	Raw map[string]any
}

// ParseToolParameters parses a tool_parameters JSON document. Numbers and booleans are read
// leniently (a string "true" is true). An invalid document gives an error wrapping ErrMalformed.
func ParseToolParameters(s string) (ToolParameters, error) {
	var p ToolParameters
	if s == "" {
		return p, nil
	}
	raw, err := parseObject(s)
	if err != nil {
		return p, fmt.Errorf("%w: tool_parameters: %v", ErrMalformed, err)
	}
	p.Raw = raw
	p.BashCommand = jsonString(raw, "bash_command")
	p.FullCommand = jsonString(raw, "full_command")
	p.Description = jsonString(raw, "description")
	p.Timeout = jsonInt(raw, "timeout")
	p.DangerouslyDisableSandbox = jsonBool(raw, "dangerouslyDisableSandbox")
	p.GitCommitID = jsonString(raw, "git_commit_id")
	p.GitBranch = jsonString(raw, "git_branch")
	p.MCPServerName = jsonString(raw, "mcp_server_name")
	p.MCPToolName = jsonString(raw, "mcp_tool_name")
	p.SkillName = jsonString(raw, "skill_name")
	p.SubagentType = jsonString(raw, "subagent_type")
	return p, nil
}

// ToolInput is the parsed tool_input JSON of a [ToolResult]: the tool's arguments. The CLI
// truncates long values and caps the whole document near 4 KB, so a document may be cut short;
// ParseToolInput then still recovers the well-known string keys that precede the cut.
type ToolInput struct {
	FilePath     string // file_path (Read, Write, Edit, MultiEdit)
	NotebookPath string // notebook_path (NotebookEdit)
	Path         string // path (Glob, Grep, LS)
	Pattern      string // pattern (Glob, Grep)
	URL          string // url (WebFetch)
	Query        string // query (WebSearch)
	Command      string // command (Bash, PowerShell)
	Description  string // description
	Skill        string // skill (Skill)
	SubagentType string // subagent_type (Agent, Task)
	// Raw holds every key of the JSON object; nil when the document was cut short.
	Raw map[string]any
	// Truncated is set when the document was not complete JSON.
	Truncated bool
}

var toolInputKeys = []string{"file_path", "notebook_path", "path", "pattern", "url", "query", "command", "description", "skill", "subagent_type"}

// ParseToolInput parses a tool_input JSON document. A document the CLI cut short is not an
// error: the string keys found before the cut are returned with Truncated set. Anything else
// that is not a JSON object gives an error wrapping ErrMalformed.
func ParseToolInput(s string) (ToolInput, error) {
	var in ToolInput
	if s == "" {
		return in, nil
	}
	raw, err := parseObject(s)
	get := func(k string) string { return jsonString(raw, k) }
	if err != nil {
		t := strings.TrimSpace(s)
		if !strings.HasPrefix(t, "{") {
			return in, fmt.Errorf("%w: tool_input: %v", ErrMalformed, err)
		}
		in.Truncated = true
		found := scanStringKeys(t, toolInputKeys)
		get = func(k string) string { return found[k] }
	} else {
		in.Raw = raw
	}
	in.FilePath, in.NotebookPath, in.Path = get("file_path"), get("notebook_path"), get("path")
	in.Pattern, in.URL, in.Query = get("pattern"), get("url"), get("query")
	in.Command, in.Description = get("command"), get("description")
	in.Skill, in.SubagentType = get("skill"), get("subagent_type")
	return in, nil
}

// Parameters parses the event's ToolParameters.
func (e *ToolResult) Parameters() (ToolParameters, error) {
	return ParseToolParameters(e.ToolParameters)
}

// Input parses the event's ToolInput.
func (e *ToolResult) Input() (ToolInput, error) { return ParseToolInput(e.ToolInput) }

// Parameters parses the event's ToolParameters.
func (e *ToolDecision) Parameters() (ToolParameters, error) {
	return ParseToolParameters(e.ToolParameters)
}

// MCPCall names an MCP server and tool.
type MCPCall struct {
	Server string
	Tool   string
}

// mcpCall finds the server and tool of a call: from tool_parameters for "mcp_tool", or from a
// tool name of the form mcp__server__tool.
func mcpCall(toolName, params string) (MCPCall, bool) {
	if s, t, ok := splitMCPName(toolName); ok {
		return MCPCall{Server: s, Tool: t}, true
	}
	if params != "" && (toolName == "mcp_tool" || strings.Contains(params, "mcp_server_name")) {
		p, err := ParseToolParameters(params)
		if err == nil && (p.MCPServerName != "" || p.MCPToolName != "") {
			return MCPCall{Server: p.MCPServerName, Tool: p.MCPToolName}, true
		}
	}
	if toolName == "mcp_tool" {
		return MCPCall{}, true // an MCP call whose names were not exported (tool details off)
	}
	return MCPCall{}, false
}

func splitMCPName(name string) (server, tool string, ok bool) {
	rest, ok := strings.CutPrefix(name, "mcp__")
	if !ok {
		return "", "", false
	}
	server, tool, ok = strings.Cut(rest, "__")
	return server, tool, ok && server != "" && tool != ""
}

// MCP returns the MCP server and tool of the call, and whether it is an MCP call at all. The
// names are empty when the CLI did not export them (tool details off).
func (e *ToolResult) MCP() (MCPCall, bool) { return mcpCall(e.ToolName, e.ToolParameters) }

// MCP returns the MCP server and tool of the call, and whether it is an MCP call at all.
func (e *ToolDecision) MCP() (MCPCall, bool) { return mcpCall(e.ToolName, e.ToolParameters) }

// FileOp is how a tool touched a file. Its zero value, FileOpUnknown, is not used for a known
// tool.
type FileOp uint8

// The file operations.
const (
	FileOpUnknown FileOp = iota
	FileOpRead
	FileOpWrite
	FileOpEdit
	FileOpSearch
)

var fileOpNames = [...]string{"", "read", "write", "edit", "search"}

// String returns "read", "write", "edit", "search", or "" for FileOpUnknown.
func (o FileOp) String() string {
	if int(o) < len(fileOpNames) {
		return fileOpNames[o]
	}
	return ""
}

// ParseFileOp maps "read", "write", "edit" or "search" to a FileOp.
func ParseFileOp(s string) FileOp {
	for i, n := range fileOpNames[1:] {
		if n == s {
			return FileOp(i + 1)
		}
	}
	return FileOpUnknown
}

// FileAccess is one file or folder a tool touched, read from the tool's input.
type FileAccess struct {
	Path    string // the file or folder (sensitive)
	Op      FileOp
	Tool    string // the tool, e.g. Edit
	Pattern string // the search pattern, for Glob and Grep
}

// fileTools maps file tools to their operation and the input key that names the path.
var fileTools = map[string]struct {
	op  FileOp
	key string
}{
	"Read":         {FileOpRead, "file_path"},
	"NotebookRead": {FileOpRead, "notebook_path"},
	"Write":        {FileOpWrite, "file_path"},
	"Edit":         {FileOpEdit, "file_path"},
	"MultiEdit":    {FileOpEdit, "file_path"},
	"NotebookEdit": {FileOpEdit, "notebook_path"},
	"Glob":         {FileOpSearch, "path"},
	"Grep":         {FileOpSearch, "path"},
	"LS":           {FileOpSearch, "path"},
}

// IsFileTool reports whether the tool reads, writes, edits or searches files.
func IsFileTool(tool string) bool { _, ok := fileTools[tool]; return ok }

// FileAccess returns the file the call touched, from its tool_input, for the file tools (Read,
// Write, Edit, MultiEdit, NotebookEdit, Glob, Grep, LS). It returns nil for other tools and when
// the input is absent (tool details off). A search without a path searched the working
// directory; it is reported with an empty Path and its Pattern.
func (e *ToolResult) FileAccess() []FileAccess {
	ft, ok := fileTools[e.ToolName]
	if !ok || e.ToolInput == "" {
		return nil
	}
	in, err := e.Input()
	if err != nil {
		return nil
	}
	fa := FileAccess{Op: ft.op, Tool: e.ToolName, Pattern: in.Pattern}
	switch ft.key {
	case "file_path":
		fa.Path = in.FilePath
	case "notebook_path":
		fa.Path = in.NotebookPath
	case "path":
		fa.Path = in.Path
	}
	if fa.Path == "" && fa.Pattern == "" {
		return nil
	}
	return []FileAccess{fa}
}

// Accepts reports whether the decision lets the call run.
func (d Decision) Accepts() bool { return d == DecisionAccept }

// IsHuman reports whether a person made the decision (user_permanent, user_temporary,
// user_abort, user_reject), as opposed to configuration or a hook.
func (s DecisionSource) IsHuman() bool {
	switch s {
	case DecisionSourceUserPermanent, DecisionSourceUserTemporary, DecisionSourceUserAbort, DecisionSourceUserReject:
		return true
	}
	return false
}

// Accepts reports whether the source is one that accepts (config, hook, user_permanent,
// user_temporary); user_abort and user_reject reject. A hook or config source can also reject:
// read the Decision for the outcome.
func (s DecisionSource) Accepts() bool {
	return s != DecisionSourceUserAbort && s != DecisionSourceUserReject && s != DecisionSourceUnknown
}

// Usage is the model usage of one API request.
type Usage struct {
	Model               string
	InputTokens         int64
	OutputTokens        int64
	CacheReadTokens     int64
	CacheCreationTokens int64
	CostUSD             float64
	Duration            time.Duration
	TimeToFirstToken    time.Duration
}

// Usage returns the request's model, tokens, cost and timings.
func (e *APIRequest) Usage() Usage {
	return Usage{
		Model: e.Model, InputTokens: e.InputTokens, OutputTokens: e.OutputTokens,
		CacheReadTokens: e.CacheReadTokens, CacheCreationTokens: e.CacheCreationTokens,
		CostUSD: e.CostUSD, Duration: time.Duration(e.DurationMS) * time.Millisecond,
		TimeToFirstToken: time.Duration(e.TTFTMS) * time.Millisecond,
	}
}

// Attribution says on whose behalf an event happened: the skill, plugin, subagent and
// workflow active when it was emitted.
type Attribution struct {
	Skill         string // skill.name
	Plugin        string // plugin.name
	Marketplace   string // marketplace.name
	Agent         string // agent.name, else agent_type
	AgentID       string // agent_id
	QuerySource   string // query_source
	WorkflowRunID string // workflow.run_id
	WorkflowName  string // workflow.name
}

// Subagent reports whether the event came from a subagent.
func (a Attribution) Subagent() bool {
	return a.AgentID != "" || strings.HasPrefix(a.QuerySource, "agent:")
}

// AttributionOf reads the attribution attributes of any event. A Skill tool call names its
// skill in tool_parameters (skill_name) and an Agent call its subagent (subagent_type); those
// are read too.
func AttributionOf(ev Event) Attribution {
	attrs := AttributesOf(ev)
	get := func(k string) string {
		v, _ := attrs.Get(k)
		return v.Text()
	}
	a := Attribution{
		Skill: get(KeySkillName), Plugin: get(KeyPluginName), Marketplace: get(KeyMarketplaceName),
		Agent: get(KeyAgentName), AgentID: get(KeyAgentID), QuerySource: get(KeyQuerySource),
		WorkflowRunID: get(KeyWorkflowRunID), WorkflowName: get(KeyWorkflowName),
	}
	if a.Agent == "" {
		a.Agent = get(KeyAgentType)
	}
	var params string
	switch e := ev.(type) {
	case *ToolResult:
		params = e.ToolParameters
	case *ToolDecision:
		params = e.ToolParameters
	}
	if params != "" && (a.Skill == "" || a.Agent == "") {
		if p, err := ParseToolParameters(params); err == nil {
			if a.Skill == "" {
				a.Skill = p.SkillName
			}
			if a.Agent == "" {
				a.Agent = p.SubagentType
			}
		}
	}
	return a
}

// TaskNotificationPrefix starts the synthetic prompt with which a background subagent reports
// back; it opens a new prompt.id.
const TaskNotificationPrefix = "<task-notification>"

// IsTaskNotification reports whether the prompt is a background subagent's synthetic
// completion notice rather than something a person typed.
func (e *UserPrompt) IsTaskNotification() bool {
	p := e.Prompt
	if p == "" || p == "<REDACTED>" {
		p = e.PromptText
	}
	return strings.HasPrefix(strings.TrimSpace(p), TaskNotificationPrefix)
}

func parseObject(s string) (map[string]any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after the object")
	}
	if m == nil {
		return nil, fmt.Errorf("not an object")
	}
	return m, nil
}

func jsonString(m map[string]any, k string) string {
	switch v := m[k].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

func jsonInt(m map[string]any, k string) int64 {
	switch v := m[k].(type) {
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return n
		}
		if f, err := v.Float64(); err == nil {
			return int64(f)
		}
	case string:
		n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		return n
	}
	return 0
}

func jsonBool(m map[string]any, k string) bool {
	switch v := m[k].(type) {
	case bool:
		return v
	case string:
		b, _ := strconv.ParseBool(strings.TrimSpace(v))
		return b
	}
	return false
}

// scanStringKeys recovers top-level "key":"string" pairs from a JSON object that was cut short.
// Only complete string values are returned.
func scanStringKeys(s string, keys []string) map[string]string {
	out := map[string]string{}
	for _, k := range keys {
		needle := `"` + k + `"`
		for i := 0; ; {
			j := strings.Index(s[i:], needle)
			if j < 0 {
				break
			}
			p := i + j + len(needle)
			for p < len(s) && (s[p] == ' ' || s[p] == '\t' || s[p] == '\n' || s[p] == '\r') {
				p++
			}
			if p < len(s) && s[p] == ':' {
				p++
				for p < len(s) && (s[p] == ' ' || s[p] == '\t' || s[p] == '\n' || s[p] == '\r') {
					p++
				}
				if p < len(s) && s[p] == '"' {
					if end := jsonstr.End(s, p); end > 0 {
						if v, ok := jsonstr.Unquote(s[p+1 : end-1]); ok {
							out[k] = v
						}
					}
				}
				break
			}
			i = p
		}
	}
	return out
}
