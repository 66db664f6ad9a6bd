package telemetrytest

import (
	"time"

	"github.com/coworkgov/cowork/telemetry"
)

// simulator generates one session's events and its ground truth.
type simulator struct {
	opts        FleetOptions
	f           *Factory
	querySource string
	events      []telemetry.Event
	truth       SessionTruth
	byPrompt    map[string]int // prompt.id → index in truth.Prompts
	servers     []mcpServer
}

type mcpServer struct {
	name  string
	tools []string
}

var mcpCatalog = []mcpServer{
	{"crm", []string{"lookup_account", "update_opportunity"}},
	{"jira", []string{"search_issues", "create_issue"}},
	{"drive", []string{"search_files", "read_file"}},
}

var builtinPlugins = []string{"cc-plugin-agents-md", "cc-plugin-telemetry", "cc-plugin-privacy", "cc-plugin-plugin-authoring"}

var orgPlugins = []string{"acme-sales-toolkit", "acme-legal-review", "finance-close"}

var skills = []string{"ci-report", "account-brief", "pdf", "xlsx"}

// add records ev as generated and updates the truth.
func (s *simulator) add(ev telemetry.Event) {
	s.events = append(s.events, ev)
	s.truth.Events++
	pid := ev.EventRecord().PromptID
	if pid == "" {
		s.truth.Preamble++
		return
	}
	p := s.prompt(pid)
	p.Events++
	switch e := ev.(type) {
	case *telemetry.APIRequest:
		p.APIRequests++
		p.CostUSDMicros += e.CostUSDMicros
		s.truth.CostUSDMicros += e.CostUSDMicros
		s.truth.CostUSD = float64(s.truth.CostUSDMicros) / 1e6
	case *telemetry.APIError:
		p.APIErrors++
	case *telemetry.ToolDecision:
		p.ToolCalls = append(p.ToolCalls, e.ToolUseID)
		if e.Decision != telemetry.DecisionAccept {
			p.Rejected = append(p.Rejected, e.ToolUseID)
		}
	case *telemetry.ToolResult:
		if !e.Success {
			p.Failed = append(p.Failed, e.ToolUseID)
		}
		if c, ok := e.MCP(); ok {
			p.MCP = append(p.MCP, c.Server+"/"+c.Tool)
		}
		for _, fa := range e.FileAccess() {
			p.Files = append(p.Files, fa.Path)
		}
	case *telemetry.SkillActivated:
		p.Skills = append(p.Skills, e.SkillName)
	}
}

func (s *simulator) prompt(id string) *PromptTruth {
	i, ok := s.byPrompt[id]
	if !ok {
		i = len(s.truth.Prompts)
		s.byPrompt[id] = i
		s.truth.Prompts = append(s.truth.Prompts, PromptTruth{PromptID: id})
	}
	return &s.truth.Prompts[i]
}

func (s *simulator) chance(p float64) bool { return p > 0 && s.f.id.r.Float64() < p }

func (s *simulator) intn(n int) int { return s.f.id.r.IntN(n) }

func (s *simulator) advance(minMS, maxMS int) {
	s.f.Advance(time.Duration(minMS+s.intn(maxMS-minMS+1)) * time.Millisecond)
}

// run generates the session: startup events, the prompts, the MCP disconnects at exit.
func (s *simulator) run() {
	f := s.f
	s.add(f.ManagedSettingsResolved())
	plugins := append([]string(nil), builtinPlugins...)
	for _, p := range orgPlugins {
		if s.chance(0.3) {
			plugins = append(plugins, p)
		}
	}
	for _, name := range plugins {
		builtin := len(name) > 10 && name[:10] == "cc-plugin-"
		s.add(f.PluginLoaded(func(e *telemetry.PluginLoaded) {
			e.PluginName = name
			if !builtin {
				e.MarketplaceName, e.PluginScope, e.EnabledVia = "acme-internal", "org", "org-policy"
				e.HasHooks, e.SkillPathCount, e.CommandPathCount = false, int64(1+s.intn(3)), int64(s.intn(2))
			}
		}))
	}
	if s.chance(s.opts.MCPRate) {
		n := 1 + s.intn(2)
		start := s.intn(len(mcpCatalog))
		for i := range n {
			srv := mcpCatalog[(start+i)%len(mcpCatalog)]
			s.servers = append(s.servers, srv)
			s.add(f.MCPServerConnection(func(e *telemetry.MCPServerConnection) { e.ServerName = srv.name }))
		}
	}
	for range s.opts.PromptsPerSession {
		s.advance(3000, 90000) // the person reads and types
		up := f.UserPrompt()
		s.add(up)
		agents := s.turn()
		for _, a := range agents {
			s.finishSubagent(up.PromptID, a)
		}
	}
	for _, srv := range s.servers {
		s.advance(5, 200)
		s.add(f.MCPServerConnection(func(e *telemetry.MCPServerConnection) {
			e.ServerName = srv.name
			e.Status = telemetry.ConnectionStatusDisconnected
		}))
	}
}

type pendingMCP struct{ server, tool string }

// turn generates the model's work for the current prompt: tool calls each announced by an API
// response, then the final response; or an API error that ends the prompt. It returns the ids
// of background subagents started.
func (s *simulator) turn() (agents []string) {
	f := s.f
	nTools := s.intn(s.opts.MaxToolCalls + 1)
	failAt := -1
	if s.chance(s.opts.ErrorRate) {
		failAt = s.intn(nTools + 1)
	}
	var skill string
	var mcp *pendingMCP
	subagentStarted := false
	api := func() *telemetry.APIRequest {
		s.advance(400, 6000)
		return f.APIRequest(func(e *telemetry.APIRequest) {
			e.QuerySource = s.querySource
			e.SkillName = skill
			if mcp != nil {
				e.MCPServerName, e.MCPToolName = mcp.server, mcp.tool
			}
		})
	}
	for i := 0; i <= nTools; i++ {
		if i == failAt {
			s.apiError()
			return agents
		}
		if i == nTools {
			break
		}
		kind := s.pickTool(skill != "", subagentStarted)
		// Tools start while the response streams: the decision of a tool the response asked
		// for may come before the response's api_request (SCHEMA §4.4, §4.10).
		var d *telemetry.ToolDecision
		if s.chance(0.5) {
			d = s.decision(kind)
			s.add(d)
			s.add(api())
		} else {
			s.add(api())
			d = s.decision(kind)
			s.add(d)
		}
		mcp = nil
		if d.Decision != telemetry.DecisionAccept {
			continue
		}
		switch kind.name {
		case "Skill":
			s.add(f.SkillActivated(func(e *telemetry.SkillActivated) { e.SkillName = kind.skill }))
			skill = kind.skill
			s.add(s.result(kind))
		case "Agent":
			s.add(s.result(kind))
			subagentStarted = true
			agents = append(agents, s.subagentWork())
		case "mcp_tool":
			s.add(s.result(kind))
			mcp = &pendingMCP{kind.server, kind.tool}
		default:
			s.add(s.result(kind))
		}
	}
	s.add(api())
	s.advance(5, 50)
	s.add(f.AssistantResponse(func(e *telemetry.AssistantResponse) { e.QuerySource = s.querySource }))
	return agents
}

// toolKind is one planned tool call.
type toolKind struct {
	name         string
	server, tool string // mcp_tool
	skill        string // Skill
	params       string
	input        string
}

func (s *simulator) pickTool(skillActive, subagentStarted bool) toolKind {
	dir := "/home/" + s.f.Identity.ProcessOwner + "/src/app"
	if hp := s.f.Identity.HostPaths; len(hp) > 0 {
		dir = hp[0]
	}
	switch {
	case len(s.servers) > 0 && s.chance(0.5):
		srv := s.servers[s.intn(len(s.servers))]
		t := srv.tools[s.intn(len(srv.tools))]
		return toolKind{name: "mcp_tool", server: srv.name, tool: t,
			params: mustJSONOrdered("mcp_server_name", srv.name, "mcp_tool_name", t),
			input:  mustJSONOrdered("query", accounts[s.intn(len(accounts))])}
	case !skillActive && s.chance(s.opts.SkillRate):
		sk := skills[s.intn(len(skills))]
		return toolKind{name: "Skill", skill: sk, params: mustJSONOrdered("skill_name", sk),
			input: mustJSONOrdered("skill", sk, "args", accounts[s.intn(len(accounts))])}
	case !subagentStarted && s.chance(s.opts.SubagentRate):
		acct := accounts[s.intn(len(accounts))]
		return toolKind{name: "Agent", params: mustJSONOrdered("subagent_type", "general-purpose"),
			input: `{"description":"Research ` + acct + `","prompt":"Research the competitor ` + acct +
				`.","subagent_type":"general-purpose","run_in_background":true}`}
	}
	switch n := s.intn(8); n {
	case 0, 1:
		cmd := bashCommands[s.intn(len(bashCommands))]
		p := bashParams(cmd, []string{dir})
		return toolKind{name: "Bash", params: p, input: inputFor("Bash", p, nil)}
	case 2:
		return toolKind{name: "WebFetch", input: inputFor("WebFetch", "", nil)}
	case 3:
		return toolKind{name: "Glob", input: mustJSONOrdered("pattern", "**/*.md", "path", dir)}
	case 4:
		return toolKind{name: "Grep", input: mustJSONOrdered("pattern", accounts[s.intn(len(accounts))], "path", dir)}
	default:
		tools := []string{"Read", "Write", "Edit"}
		t := tools[s.intn(len(tools))]
		path := dir + "/" + files[s.intn(len(files))]
		in := mustJSONOrdered("file_path", path)
		if t == "Edit" {
			in = `{"file_path":` + quote(path) + `,"old_string":"TODO","new_string":"Done","replace_all":false}`
		}
		return toolKind{name: t, input: in}
	}
}

func quote(s string) string { return mustJSON(s) }

// decision builds the tool_decision of a planned call, accepted or rejected.
func (s *simulator) decision(k toolKind) *telemetry.ToolDecision {
	s.advance(20, 400)
	return s.f.ToolDecision(func(e *telemetry.ToolDecision) {
		e.ToolName, e.ToolParameters = k.name, k.params
		if k.name == "mcp_tool" {
			e.ToolSource = telemetry.ToolSourceMCP
		}
		if s.chance(s.opts.RejectRate) {
			e.Decision = telemetry.DecisionReject
			e.Source = []telemetry.DecisionSource{telemetry.DecisionSourceUserReject, telemetry.DecisionSourceUserAbort,
				telemetry.DecisionSourceConfig, telemetry.DecisionSourceHook}[s.intn(4)]
			return
		}
		switch n := s.intn(10); {
		case n < 6:
			e.Source = telemetry.DecisionSourceConfig
		case n < 8:
			e.Source = telemetry.DecisionSourceUserTemporary
		case n < 9:
			e.Source = telemetry.DecisionSourceUserPermanent
		default:
			e.Source = telemetry.DecisionSourceHook
		}
	})
}

// result builds the tool_result of the last accepted decision.
func (s *simulator) result(k toolKind) *telemetry.ToolResult {
	dur := 5 + s.intn(800)
	s.f.Advance(time.Duration(dur) * time.Millisecond)
	fail := s.chance(s.opts.ToolFailureRate)
	return s.f.ToolResult(func(e *telemetry.ToolResult) {
		e.DurationMS = int64(dur)
		e.ToolParameters, e.ToolInput = k.params, k.input
		e.ToolInputSizeBytes = int64(len(k.input))
		if k.name == "mcp_tool" {
			e.MCPServerScope = "dynamic"
		}
		if fail {
			e.Success = false
			e.ToolResultSizeBytes = 0
			switch k.name {
			case "Bash":
				e.ErrorType, e.Error = "ShellError", "Command failed with exit code 1"
			case "WebFetch":
				e.ErrorType, e.Error = "DomainCheckFailedError", "Unable to verify if domain www.example.com is safe to fetch"
			default:
				e.ErrorType, e.Error = "Error:ENOENT", "File does not exist."
			}
		}
	})
}

// apiError ends the prompt with an API error: at once (400) or after retries (529).
func (s *simulator) apiError() {
	f := s.f
	s.prompt(f.PromptID()).Errored = true
	s.advance(10, 3000)
	if s.chance(0.5) {
		s.add(f.APIError(func(e *telemetry.APIError) { e.QuerySource = s.querySource }))
		return
	}
	s.add(f.APIError(func(e *telemetry.APIError) {
		e.Error, e.StatusCode, e.Attempt, e.QuerySource = "Overloaded", 529, 11, s.querySource
		e.DurationMS = int64(30000 + s.intn(60000))
	}))
	s.add(f.APIRetriesExhausted())
}

// subagentWork generates a background subagent's model calls under the parent prompt.id and
// returns its agent_id; finishSubagent reports it later.
func (s *simulator) subagentWork() string {
	f := s.f
	agent := f.AgentID()
	p := s.prompt(f.PromptID())
	p.Subagents = append(p.Subagents, agent)
	for range 1 + s.intn(3) {
		s.advance(300, 4000)
		s.add(f.APIRequest(func(e *telemetry.APIRequest) {
			e.QuerySource, e.AgentName, e.AgentID = "agent:builtin:general-purpose", "general-purpose", agent
			e.Model = "claude-haiku-5-5"
		}))
	}
	s.add(f.AssistantResponse(func(e *telemetry.AssistantResponse) {
		e.QuerySource, e.AgentID, e.Model = "agent:builtin:general-purpose", agent, "claude-haiku-5-5"
	}))
	return agent
}

// finishSubagent reports a background subagent: subagent_completed under the parent prompt,
// then the synthetic <task-notification> prompt, which opens a new prompt.id, and its answer.
func (s *simulator) finishSubagent(parent, agent string) {
	f := s.f
	f.SetPromptID(parent)
	s.advance(500, 20000)
	s.add(f.SubagentCompleted(func(e *telemetry.SubagentCompleted) {
		e.AgentID, e.Model, e.FinalModel = agent, "claude-haiku-5-5", "claude-haiku-5-5"
	}))
	text := "<task-notification>\n<task-id>" + agent + "</task-id>\n<status>completed</status>\n" +
		"<summary>Agent \"Research\" completed</summary>\n</task-notification>"
	up := f.UserPrompt(func(e *telemetry.UserPrompt) {
		e.Prompt, e.PromptText, e.PromptLength = text, text, int64(len(text))
	})
	s.add(up)
	p := s.prompt(up.PromptID)
	p.TaskNotification, p.ParentPromptID, p.AgentID = true, parent, agent
	s.advance(400, 5000)
	s.add(f.APIRequest(func(e *telemetry.APIRequest) { e.QuerySource = s.querySource }))
	s.add(f.AssistantResponse(func(e *telemetry.AssistantResponse) { e.QuerySource = s.querySource }))
}

// chaos returns the delivered order of events: duplicates, swaps and late arrivals.
func (s *simulator) chaos(events []telemetry.Event) []telemetry.Event {
	c := s.opts.Chaos
	if c.DuplicateRate <= 0 && c.ReorderRate <= 0 && c.LateRate <= 0 {
		return events
	}
	out := make([]telemetry.Event, 0, len(events)+len(events)/8)
	var late []telemetry.Event
	for _, ev := range events {
		if s.chance(c.LateRate) {
			late = append(late, ev)
			continue
		}
		out = append(out, ev)
		if s.chance(c.DuplicateRate) {
			out = append(out, ev)
		}
	}
	for i := 0; i+1 < len(out); i++ {
		if s.chance(c.ReorderRate) {
			out[i], out[i+1] = out[i+1], out[i]
			i++
		}
	}
	return append(out, late...)
}

var (
	accounts = []string{"Globex", "Initech", "Umbrella", "Hooli", "Stark Industries", "Wayne Enterprises"}
	files    = []string{"notes.md", "report.md", "data.csv", "board-update.md", "pricing.xlsx", "summary.txt"}
)
