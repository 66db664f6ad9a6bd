package realclient

import (
	"encoding/json"
	"sort"
	"strings"
	"time"
)

// Workdir is the placeholder for the scenario's working folder in a Step's Input; the stand-in
// model replaces it with the workdir: value of the prompt, as mock_anthropic.py does with @W@.
const Workdir = "@W@"

// Step is one tool call the stand-in model asks for.
type Step struct {
	// Tool is the tool name, as the CLI lists it in the request's tools.
	Tool string
	// Input is the tool input as JSON text. Key order is kept on the wire, and the CLI keeps it
	// in tool_input attributes. Workdir is replaced textually, without JSON escaping.
	Input string
}

// Scenario is a scripted conversation: the model asks for Steps in order, one per model call,
// then answers with a closing text.
type Scenario struct {
	// Name is matched against "scenario:NAME" in the first user text.
	Name string
	// Steps are the tool calls, the n-th sent once the conversation holds n tool results.
	Steps []Step
	// Fatal makes every model call of the scenario fail with HTTP 400 (prompt too long).
	Fatal bool
	// MCP makes Run pass --mcp-config with the crm stdio server.
	MCP bool
	// AllowedTools are appended to the --allowedTools list Run passes, for scenarios whose
	// tools record.sh does not allow. The built-in scenarios leave it empty.
	AllowedTools []string
	// After names a scenario whose conversation must have asked for its closing text before
	// this one's closing text is sent (waiting at most AfterWait). A background subagent's
	// scenario names its parent's: the CLI hands a notification that arrives while the parent's
	// turn is still running to that turn's next model call, and only one that arrives after the
	// turn's last call opens a prompt of its own, so without the wait which of the two happens
	// depends on how fast each conversation runs.
	After string
}

// AfterWait bounds how long a closing text waits for the scenario its Scenario.After names.
const AfterWait = 30 * time.Second

// builtin are the scenarios of mock_anthropic.py and record.sh, in their order.
var builtin = []Scenario{
	{Name: "files", Steps: []Step{
		{"Write", `{"file_path": "@W@/notes.txt", "content": "quarterly numbers: 42\ncontact: ceo@acme.example\n"}`},
		{"Read", `{"file_path": "@W@/notes.txt"}`},
		{"Edit", `{"file_path": "@W@/notes.txt", "old_string": "42", "new_string": "43"}`},
		{"Glob", `{"pattern": "*.txt", "path": "@W@"}`},
		{"Grep", `{"pattern": "contact", "path": "@W@"}`},
	}},
	{Name: "deny", Steps: []Step{
		{"Bash", `{"command": "rm -rf @W@/important", "description": "Delete the folder"}`},
		{"Bash", `{"command": "ls @W@", "description": "List"}`},
	}},
	{Name: "mcp", MCP: true, Steps: []Step{
		{"mcp__crm__lookup_account", `{"account": "Globex", "owner_email": "sam@globex.example"}`},
		{"mcp__crm__lookup_account", `{"account": "Initech"}`},
	}},
	{Name: "fatal", Fatal: true},
	{Name: "web", Steps: []Step{
		{"WebFetch", `{"url": "https://example.com/pricing?token=abc123", "prompt": "Summarize pricing"}`},
	}},
	{Name: "task", Steps: []Step{
		{"TodoWrite", `{"todos": [{"content": "Research competitor", "status": "in_progress", "activeForm": "Researching"}]}`},
		{"Bash", `{"command": "ls @W@", "description": "List"}`},
	}},
	{Name: "skill", Steps: []Step{
		{"Skill", `{"skill": "ci-report", "args": "Globex"}`},
		{"Bash", `{"command": "ls @W@", "description": "List"}`},
	}},
	// agent starts a background subagent whose own conversation runs the subagent scenario
	// (its prompt names it) and globs the workdir itself while the subagent works.
	{Name: "agent", AllowedTools: []string{"Agent"}, Steps: []Step{
		{"Agent", `{"description": "Research Globex", "prompt": "scenario:subagent workdir:@W@ Research the competitor Globex.", "subagent_type": "general-purpose", "run_in_background": true}`},
		{"Glob", `{"pattern": "*.txt", "path": "@W@"}`},
	}},
	{Name: "subagent", After: "agent", Steps: []Step{
		{"Bash", `{"command": "echo globex", "description": "Research"}`},
	}},
	// leak is named in record.sh (user and --mcp-config) but has no steps in the mock: the
	// model answers at once.
	{Name: "leak", MCP: true},
}

// Scenarios returns the built-in scenarios, record.sh's seven first in its order, as fresh
// copies the caller may modify.
func Scenarios() []Scenario {
	out := make([]Scenario, len(builtin))
	for i, s := range builtin {
		s.Steps = append([]Step(nil), s.Steps...)
		s.AllowedTools = append([]string(nil), s.AllowedTools...)
		out[i] = s
	}
	return out
}

// RecordedScenarios lists the scenarios the corpus holds, in record.sh's order.
func RecordedScenarios() []string {
	return []string{"files", "deny", "mcp", "fatal", "web", "task", "skill"}
}

// table maps scenario names to scenarios: the built-in ones, overridden by extra.
type table map[string]Scenario

func newTable(extra []Scenario) table {
	t := table{}
	for _, s := range Scenarios() {
		t[s.Name] = s
	}
	for _, s := range extra {
		t[s.Name] = s
	}
	return t
}

func (t table) names() []string {
	out := make([]string, 0, len(t))
	for n := range t {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// steps returns the scenario's steps with Workdir replaced by wd, as JSON messages.
func (s Scenario) steps(wd string) []step {
	out := make([]step, len(s.Steps))
	for i, st := range s.Steps {
		out[i] = step{name: st.Tool, input: json.RawMessage(strings.ReplaceAll(st.Input, Workdir, wd))}
	}
	return out
}

type step struct {
	name  string
	input json.RawMessage
}

// User is one of the fictional signed-in accounts of the org "Acme Corp" that record.sh runs
// scenarios as.
type User struct {
	Login       string // home folder name and process.owner, e.g. "jane.doe"
	AccountUUID string
	Email       string
	DisplayName string
}

// OrgUUID is the organization id of every User, "Acme Corp".
const OrgUUID = "0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9"

// The three users of record.sh.
var (
	JaneDoe = User{"jane.doe", "6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "jane.doe@acme.example", "Jane Doe"}
	SamLee  = User{"sam.lee", "2c9d8e7f-6a5b-4c3d-9e2f-1a0b9c8d7e6f", "sam.lee@acme.example", "Sam Lee"}
	PriyaN  = User{"priya.n", "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "priya.n@acme.example", "Priya N"}
)

// UserFor returns the user record.sh runs the scenario as: jane.doe for files, mcp, skill and
// leak, sam.lee for deny, web and agent, priya.n for anything else.
func UserFor(scenario string) User {
	switch scenario {
	case "files", "mcp", "skill", "leak":
		return JaneDoe
	case "deny", "web", "agent":
		return SamLee
	default:
		return PriyaN
	}
}
