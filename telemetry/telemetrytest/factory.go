package telemetrytest

import (
	"encoding/json"
	"math"
	"strings"
	"time"

	"github.com/coworkgov/cowork/telemetry"
)

// DefaultCLIVersion is the scope version (the Claude Code CLI version) of events built here.
const DefaultCLIVersion = "2.1.328"

// DefaultStart is the time of the first event a [Factory] builds unless told otherwise.
var DefaultStart = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

// DefaultModel is the model of API events built here unless told otherwise.
const DefaultModel = "claude-sonnet-5-5"

// Identity is who runs a session: the standard identity attributes every event carries, and
// the resource's process.owner.
type Identity struct {
	UserID         string   // user.id: 64 hex digits
	SessionID      string   // session.id: UUID v4
	OrganizationID string   // organization.id: UUID v4
	Email          string   // user.email
	AccountUUID    string   // user.account_uuid: UUID v4
	AccountID      string   // user.account_id: user_01…
	ProcessOwner   string   // resource process.owner: the OS login name
	HostPaths      []string // workspace.host_paths
}

// Factory builds typed events of one session with realistic defaults. Each event gets the
// session's identity, the current prompt.id (none before the first [Factory.UserPrompt]), the
// next event.sequence, a time a few milliseconds after the previous event's, and the factory's
// Resource and Scope. Every method takes optional override functions, applied in order after
// the defaults; an override that moves Timestamp moves TimeUnixNano with it.
//
// A Factory is deterministic: the same seed gives the same events. It must be created with
// [NewFactory] and is not safe for concurrent use.
type Factory struct {
	// Identity is the session's identity; change it before building events.
	Identity Identity
	// Resource and Scope are set on every event; their defaults describe Cowork running CLI
	// DefaultCLIVersion. Replace them before building events to change them.
	Resource *telemetry.Resource
	Scope    *telemetry.Scope

	id       ids
	now      time.Time
	seq      int64
	promptID string
	lastTool struct {
		id, name, params string
	}
}

// NewFactory returns a Factory whose identity, ids and timings are drawn from seed. The first
// event is at [DefaultStart].
func NewFactory(seed uint64) *Factory {
	g := ids{r: newRand(seed)}
	first, last := firstNames[g.r.IntN(len(firstNames))], lastNames[g.r.IntN(len(lastNames))]
	owner := strings.ToLower(first + "." + last)
	f := &Factory{
		id:  g,
		now: DefaultStart,
		Identity: Identity{
			UserID:         g.userID(),
			SessionID:      g.uuid(),
			OrganizationID: g.uuid(),
			Email:          owner + "@acme.example",
			AccountUUID:    g.uuid(),
			AccountID:      g.accountID(),
			ProcessOwner:   owner,
			HostPaths:      []string{"/Users/" + owner + "/Documents/" + projects[g.r.IntN(len(projects))]},
		},
		Scope: &telemetry.Scope{Name: telemetry.LogsScopeName, Version: DefaultCLIVersion},
	}
	f.Resource = NewResource(telemetry.ProductCowork, owner, "1.22209.3")
	return f
}

// NewResource returns the resource a product sends, in the CLI's attribute order: custom
// attributes first (Cowork's process.owner), then host.arch, os.type, os.version, service.name,
// service.version. owner is left out when empty.
func NewResource(p telemetry.Product, owner, version string) *telemetry.Resource {
	r := &telemetry.Resource{}
	if owner != "" {
		r.Attrs = append(r.Attrs, telemetry.KeyValue{Key: telemetry.KeyProcessOwner, Value: telemetry.String(owner)})
	}
	r.Attrs = append(r.Attrs,
		telemetry.KeyValue{Key: telemetry.KeyHostArch, Value: telemetry.String("arm64")},
		telemetry.KeyValue{Key: telemetry.KeyOSType, Value: telemetry.String("darwin")},
		telemetry.KeyValue{Key: telemetry.KeyOSVersion, Value: telemetry.String("25.1.0")},
		telemetry.KeyValue{Key: telemetry.KeyServiceName, Value: telemetry.String(p.String())},
		telemetry.KeyValue{Key: telemetry.KeyServiceVersion, Value: telemetry.String(version)},
	)
	r.Refresh()
	return r
}

// Now returns the time the next event will carry (before its own small advance).
func (f *Factory) Now() time.Time { return f.now }

// SetNow sets the factory's clock.
func (f *Factory) SetNow(t time.Time) { f.now = t.UTC() }

// Advance moves the factory's clock forward by d.
func (f *Factory) Advance(d time.Duration) { f.now = f.now.Add(d) }

// Sequence returns the event.sequence the next event will carry.
func (f *Factory) Sequence() int64 { return f.seq }

// PromptID returns the current prompt.id, or "" before the first prompt.
func (f *Factory) PromptID() string { return f.promptID }

// SetPromptID makes id the current prompt.id ("" for none), e.g. to interleave a subagent's
// events under its parent prompt.
func (f *Factory) SetPromptID(id string) { f.promptID = id }

// UUID returns a new random UUID v4 from the factory's source.
func (f *Factory) UUID() string { return f.id.uuid() }

// ToolUseID returns a new toolu_01… id.
func (f *Factory) ToolUseID() string { return f.id.toolUseID() }

// AgentID returns a new subagent id (17 hex digits).
func (f *Factory) AgentID() string { return f.id.agentID() }

// Logs groups events into one OTLP request, by their Resource and Scope.
func (f *Factory) Logs(events ...telemetry.Event) *telemetry.Logs {
	return telemetry.NewLogs(events...)
}

// Stamp fills ev's standard attributes, timestamps, Resource and Scope as the factory's methods
// do, for events it has no method for (telemetry.New("compaction")). It advances the clock by a
// few milliseconds and the sequence by one, and returns ev.
func (f *Factory) Stamp(ev telemetry.Event) telemetry.Event {
	f.now = f.now.Add(time.Duration(1+f.id.r.IntN(40)) * time.Millisecond)
	r := ev.EventRecord()
	id := f.Identity
	r.UserID = id.UserID
	r.SessionID = id.SessionID
	r.OrganizationID = id.OrganizationID
	r.UserEmail = id.Email
	r.AccountUUID = id.AccountUUID
	r.AccountID = id.AccountID
	r.Provider = "firstParty"
	r.TerminalType = "non-interactive"
	if f.Resource != nil && f.Resource.Product() != telemetry.ProductCowork {
		r.TerminalType = "xterm-256color"
	}
	r.Timestamp = f.now.Truncate(time.Millisecond)
	r.Sequence = f.seq
	r.PromptID = f.promptID
	r.WorkspaceHostPaths = id.HostPaths
	ns := uint64(r.Timestamp.UnixNano())
	r.TimeUnixNano, r.ObservedTimeUnixNano = ns, ns
	r.Resource, r.Scope = f.Resource, f.Scope
	f.seq++
	return ev
}

// finish applies the overrides and keeps TimeUnixNano in step with a moved Timestamp.
func finish[T telemetry.Event](ev T, opts []func(T)) T {
	r := ev.EventRecord()
	stamped := r.Timestamp
	for _, o := range opts {
		if o != nil {
			o(ev)
		}
	}
	if !r.Timestamp.Equal(stamped) && r.TimeUnixNano == uint64(stamped.UnixNano()) {
		ns := uint64(r.Timestamp.UnixNano())
		r.TimeUnixNano, r.ObservedTimeUnixNano = ns, ns
	}
	return ev
}

// UserPrompt starts a new prompt (a new prompt.id) and returns its user_prompt event, with
// prompt text, prompt_text, prompt_length as the CLI counts it, and message.uuid.
func (f *Factory) UserPrompt(opts ...func(*telemetry.UserPrompt)) *telemetry.UserPrompt {
	f.promptID = f.id.uuid()
	text := prompts[f.id.r.IntN(len(prompts))]
	ev := &telemetry.UserPrompt{Prompt: text, PromptText: text, PromptLength: int64(len([]rune(text))), MessageUUID: f.id.uuid()}
	f.Stamp(ev)
	ev = finish(ev, opts)
	if ev.PromptID != "" {
		f.promptID = ev.PromptID
	}
	return ev
}

// AssistantResponse returns an assistant_response for the main thread.
func (f *Factory) AssistantResponse(opts ...func(*telemetry.AssistantResponse)) *telemetry.AssistantResponse {
	text := responses[f.id.r.IntN(len(responses))]
	ev := &telemetry.AssistantResponse{Response: text, ResponseLength: int64(len([]rune(text))), MessageUUID: f.id.uuid(),
		Model: DefaultModel, QuerySource: "sdk"}
	f.Stamp(ev)
	return finish(ev, opts)
}

// ToolDecision returns an accepted tool_decision (source config) for a new Bash call. A
// following [Factory.ToolResult] reports the same call unless told otherwise.
func (f *Factory) ToolDecision(opts ...func(*telemetry.ToolDecision)) *telemetry.ToolDecision {
	cmd := bashCommands[f.id.r.IntN(len(bashCommands))]
	ev := &telemetry.ToolDecision{ToolName: "Bash", ToolUseID: f.id.toolUseID(), Decision: telemetry.DecisionAccept,
		Source: telemetry.DecisionSourceConfig, ToolSource: telemetry.ToolSourceBuiltin,
		ToolParameters: bashParams(cmd, f.Identity.HostPaths), PermissionMode: telemetry.PermissionModeDefault}
	f.Stamp(ev)
	ev = finish(ev, opts)
	f.lastTool.id, f.lastTool.name, f.lastTool.params = ev.ToolUseID, ev.ToolName, ev.ToolParameters
	return ev
}

// ToolResult returns a successful tool_result for the call of the last [Factory.ToolDecision]
// (its tool_use_id, tool_name and tool_parameters), or for a new Bash call when there was none.
func (f *Factory) ToolResult(opts ...func(*telemetry.ToolResult)) *telemetry.ToolResult {
	id, name, params := f.lastTool.id, f.lastTool.name, f.lastTool.params
	if id == "" {
		name = "Bash"
		id = f.id.toolUseID()
		params = bashParams(bashCommands[f.id.r.IntN(len(bashCommands))], f.Identity.HostPaths)
	}
	f.lastTool.id = ""
	ev := &telemetry.ToolResult{ToolName: name, ToolUseID: id, Success: true, DurationMS: int64(5 + f.id.r.IntN(400)),
		ToolParameters: params, ToolResultSizeBytes: int64(16 + f.id.r.IntN(4000))}
	ev.ToolInput = inputFor(name, params, f.Identity.HostPaths)
	ev.ToolInputSizeBytes = int64(len(ev.ToolInput))
	f.Stamp(ev)
	return finish(ev, opts)
}

// APIRequest returns an api_request of the main thread with realistic token counts, and a
// cost whose cost_usd equals cost_usd_micros/1e6. When an override changes the token counts
// or the model but not the cost, the cost is recomputed.
func (f *Factory) APIRequest(opts ...func(*telemetry.APIRequest)) *telemetry.APIRequest {
	r := f.id.r
	ev := &telemetry.APIRequest{Model: DefaultModel, InputTokens: int64(800 + r.IntN(4000)), OutputTokens: int64(40 + r.IntN(900)),
		CacheReadTokens: int64(r.IntN(30000)), DurationMS: int64(400 + r.IntN(6000)),
		RequestID: f.id.requestID(), ClientRequestID: f.id.uuid(), Speed: telemetry.SpeedNormal, QuerySource: "sdk",
		Effort: telemetry.EffortMedium}
	if r.IntN(3) == 0 {
		ev.CacheCreationTokens = int64(r.IntN(4000))
		ev.CacheCreation5mTokens = ev.CacheCreationTokens
	}
	ev.TTFTMS = ev.DurationMS / int64(2+r.IntN(6))
	SetCost(ev)
	micros := ev.CostUSDMicros
	f.Stamp(ev)
	ev = finish(ev, opts)
	if ev.CostUSDMicros == micros && ev.CostUSD == float64(micros)/1e6 {
		SetCost(ev)
	}
	return ev
}

// APIError returns an api_error for a request that failed at once with HTTP 400.
func (f *Factory) APIError(opts ...func(*telemetry.APIError)) *telemetry.APIError {
	ev := &telemetry.APIError{Model: DefaultModel, Error: "prompt is too long: 250000 tokens > 200000 maximum", StatusCode: 400,
		DurationMS: int64(10 + f.id.r.IntN(300)), Attempt: 1, Speed: telemetry.SpeedNormal, QuerySource: "sdk",
		Effort: telemetry.EffortMedium}
	f.Stamp(ev)
	return finish(ev, opts)
}

// APIRetriesExhausted returns the api_retries_exhausted that accompanies an api_error after
// 11 attempts at an overloaded API.
func (f *Factory) APIRetriesExhausted(opts ...func(*telemetry.APIRetriesExhausted)) *telemetry.APIRetriesExhausted {
	ev := &telemetry.APIRetriesExhausted{Model: DefaultModel, Error: "Overloaded", StatusCode: 529, TotalAttempts: 11,
		TotalRetryDurationMS: int64(30000 + f.id.r.IntN(60000)), Speed: telemetry.SpeedNormal}
	f.Stamp(ev)
	return finish(ev, opts)
}

// MCPServerConnection returns a connected stdio MCP server "crm" (scope dynamic).
func (f *Factory) MCPServerConnection(opts ...func(*telemetry.MCPServerConnection)) *telemetry.MCPServerConnection {
	ev := &telemetry.MCPServerConnection{Status: telemetry.ConnectionStatusConnected, TransportType: "stdio",
		ServerScope: "dynamic", DurationMS: int64(40 + f.id.r.IntN(300)), ServerName: "crm"}
	f.Stamp(ev)
	return finish(ev, opts)
}

// PluginLoaded returns a plugin_loaded for the built-in plugin cc-plugin-agents-md.
func (f *Factory) PluginLoaded(opts ...func(*telemetry.PluginLoaded)) *telemetry.PluginLoaded {
	ev := &telemetry.PluginLoaded{PluginName: "cc-plugin-agents-md", MarketplaceName: "builtin", PluginScope: "default-bundle",
		EnabledVia: "default-enable", PluginIDHash: f.id.hex(16), HasHooks: true, SafeMode: false}
	f.Stamp(ev)
	return finish(ev, opts)
}

// SkillActivated returns a skill_activated for the user skill ci-report, invoked by the model.
func (f *Factory) SkillActivated(opts ...func(*telemetry.SkillActivated)) *telemetry.SkillActivated {
	ev := &telemetry.SkillActivated{SkillName: "ci-report", InvocationTrigger: "claude-proactive", SkillSource: "userSettings"}
	f.Stamp(ev)
	return finish(ev, opts)
}

// SubagentCompleted returns a subagent_completed for a background general-purpose subagent
// with a new agent_id.
func (f *Factory) SubagentCompleted(opts ...func(*telemetry.SubagentCompleted)) *telemetry.SubagentCompleted {
	ev := &telemetry.SubagentCompleted{AgentType: "general-purpose", AgentSource: "built-in", IsBuiltIn: true, IsAsync: true,
		TotalTokens: int64(2000 + f.id.r.IntN(30000)), TotalToolUses: int64(f.id.r.IntN(6)), DurationMS: int64(2000 + f.id.r.IntN(60000)),
		Model: DefaultModel, FinalModel: DefaultModel, AgentID: f.id.agentID()}
	f.Stamp(ev)
	return finish(ev, opts)
}

// ManagedSettingsResolved returns the managed_settings_resolved the CLI sends at startup.
func (f *Factory) ManagedSettingsResolved(opts ...func(*telemetry.ManagedSettingsResolved)) *telemetry.ManagedSettingsResolved {
	ev := &telemetry.ManagedSettingsResolved{Trigger: "startup", Sources: []string{}, SourceBehavior: "first-wins",
		HelperState: "none", HelperApplied: "none"}
	f.Stamp(ev)
	return finish(ev, opts)
}

// Prices in US dollars per million tokens (input, output, cache read, cache write), used to
// give simulated requests a plausible cost. They are not Anthropic's price list.
var prices = map[string][4]float64{
	"claude-opus-5-5":   {5, 25, 0.5, 6.25},
	"claude-sonnet-5-5": {3, 15, 0.3, 3.75},
	"claude-haiku-5-5":  {1, 5, 0.1, 1.25},
}

// SetCost sets ev's cost_usd_micros from its model and token counts, and cost_usd to the same
// amount in dollars (cost_usd == cost_usd_micros / 1e6). Unknown models are priced as the
// default model.
func SetCost(ev *telemetry.APIRequest) {
	p, ok := prices[ev.Model]
	if !ok {
		p = prices[DefaultModel]
	}
	m := float64(ev.InputTokens)*p[0] + float64(ev.OutputTokens)*p[1] + float64(ev.CacheReadTokens)*p[2] +
		float64(ev.CacheCreationTokens)*p[3]
	ev.CostUSDMicros = int64(math.Round(m))
	ev.CostUSD = float64(ev.CostUSDMicros) / 1e6
}

func bashParams(cmd string, paths []string) string {
	dir := "."
	if len(paths) > 0 {
		dir = paths[0]
	}
	full := strings.ReplaceAll(cmd, "@W", dir)
	first, _, _ := strings.Cut(full, " ")
	return mustJSON(map[string]string{"bash_command": first, "full_command": full, "description": "Run " + first})
}

// inputFor returns a tool_input for a tool of the given name and parameters.
func inputFor(name, params string, paths []string) string {
	dir := "."
	if len(paths) > 0 {
		dir = paths[0]
	}
	switch name {
	case "Bash":
		var p struct {
			FullCommand string `json:"full_command"`
			Description string `json:"description"`
		}
		_ = json.Unmarshal([]byte(params), &p)
		return mustJSONOrdered("command", p.FullCommand, "description", p.Description)
	case "Read", "Write", "Edit":
		return mustJSONOrdered("file_path", dir+"/notes.md")
	case "Glob":
		return mustJSONOrdered("pattern", "**/*.md", "path", dir)
	case "Grep":
		return mustJSONOrdered("pattern", "Globex", "path", dir)
	case "WebFetch":
		return mustJSONOrdered("url", "https://www.example.com/pricing", "prompt", "Summarize the pricing")
	}
	return "{}"
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// mustJSONOrdered writes a JSON object of string pairs in the given order.
func mustJSONOrdered(kv ...string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(kv[i])
		v, _ := json.Marshal(kv[i+1])
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.String()
}

var (
	firstNames = []string{"Jane", "Sam", "Priya", "Omar", "Mei", "Lucas", "Amara", "Jonas", "Sofia", "Kenji", "Ines", "Noah"}
	lastNames  = []string{"Doe", "Lee", "Nair", "Haddad", "Chen", "Silva", "Okafor", "Berg", "Rossi", "Sato", "Garcia", "Kim"}
	projects   = []string{"competitive-intel", "Q3-reports", "board-deck", "pricing-review", "hiring-plan", "vendor-audit"}
	prompts    = []string{
		"Summarize the Globex account from the CRM into notes.md",
		"Draft the Q3 board update from the files in this folder",
		"Compare our pricing page with the competitors and list the gaps",
		"Clean up the vendor spreadsheet and flag duplicate suppliers",
		"Research Initech's latest product launch and write a one-page brief",
		"Reconcile the expense report; my card is 4111 1111 1111 1111",
	}
	responses = []string{
		"Done: the summary is in notes.md.",
		"I drafted the update and saved it as board-update.md.",
		"Here are the five gaps I found, with sources.",
		"Finished: summary for the competitive intelligence report.",
	}
	bashCommands = []string{"ls @W", "grep -rn Globex @W", "wc -l @W/notes.md", "git -C @W status", "head -n 20 @W/data.csv"}
)
