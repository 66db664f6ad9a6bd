package correlate

import (
	"strconv"

	"github.com/coworkgov/cowork/telemetry"
)

// ECSVersion is the Elastic Common Schema version the ECS documents declare.
const ECSVersion = "9.3.0"

// ECS maps one event to an Elastic Common Schema document. It follows Elastic's own
// claude_code integration with two corrections: user.id is the account id (user_01…, equal to
// the Compliance API's actor.user_id), not the per-install hash (which goes to device.id), and
// gen_ai.usage.input_tokens includes cache reads and writes. The mapping:
//
//	event.timestamp / timeUnixNano   @timestamp
//	event.name                       event.action; event.kind = event
//	event type                       event.category / event.type: tool_result by tool
//	                                 (file tools → file access/creation/change, Bash/PowerShell
//	                                 → process start, WebFetch/WebSearch → web/network access,
//	                                 others → process info); tool_decision → iam info (denied on
//	                                 reject); api_request/api_error/api_retries_exhausted → api
//	                                 info; api_refusal → api denied; auth → authentication;
//	                                 permission_mode_changed → configuration change;
//	                                 mcp_server_connection → network connection; hook_registered
//	                                 → configuration info; hook_execution_start/complete →
//	                                 process start/end; plugin_loaded → library start;
//	                                 plugin_installed → package info; user_prompt,
//	                                 skill_activated → none; others → host info
//	success / decision / api_error   event.outcome (success, failure, unknown)
//	event.sequence                   event.sequence
//	duration_ms                      event.duration (ns)
//	EventID                          event.id
//	service.name                     event.provider, service.name (+ service.version)
//	user.account_id                  user.id, related.user
//	user.email                       user.email, related.user
//	user.id (install hash)           device.id
//	organization.id                  organization.id
//	process.owner                    process.user.name
//	host.arch, os.type, os.version   host.architecture, host.os.type, host.os.version
//	full_command / command           process.command_line
//	file_path / path                 file.path
//	url                              url.full
//	MCP server                       related.hosts, claude_code.mcp.server
//	error, error_type, status_code   error.message, error.type, error.code, http.response.status_code
//	model, tokens, tool ids          gen_ai.* (see [GenAI])
//	session.id, prompt.id            claude_code.session.id, claude_code.prompt.id,
//	                                 claude_code.chain.id (see [ChainID])
//	user.account_uuid                claude_code.user.account_uuid
//	decision, source                 claude_code.tool.decision, claude_code.tool.decision_source
func ECS(ev telemetry.Event, opts SIEMOptions) Document {
	r := ev.EventRecord()
	d := Document{}
	d.set("@timestamp", rfc3339ms(r.Time()))
	d.set("ecs.version", ECSVersion)
	d.set("event.kind", "event")
	d.set("event.action", ev.Name())
	d.set("event.id", EventID(ev))
	d.set("event.sequence", r.Sequence)
	cat, typ := ecsCategory(ev)
	if cat != "" {
		d.set("event.category", []string{cat})
		d.set("event.type", []string{typ})
	}
	d.set("event.outcome", ecsOutcome(ev))
	ecsCommon(d, r)
	related := []string{}
	if r.UserEmail != "" {
		related = append(related, r.UserEmail)
	}
	if r.AccountID != "" {
		related = append(related, r.AccountID)
	}
	d.set("related.user", related)
	switch e := ev.(type) {
	case *telemetry.ToolResult:
		d.set("event.duration", e.DurationMS*1_000_000)
		ecsTool(d, viewTool(e.ToolName, e.ToolUseID, e.ToolParameters, e.ToolInput))
		if !e.Success {
			d.set("error.type", e.ErrorType)
			d.set("error.message", e.Error)
			d.set("event.reason", e.Error)
		}
	case *telemetry.ToolDecision:
		ecsTool(d, viewTool(e.ToolName, e.ToolUseID, e.ToolParameters, ""))
	case *telemetry.APIRequest:
		d.set("event.duration", e.DurationMS*1_000_000)
	case *telemetry.APIError:
		d.set("event.duration", e.DurationMS*1_000_000)
		d.set("error.message", e.Error)
		d.set("event.reason", e.Error)
		if e.StatusCode != 0 {
			d.set("http.response.status_code", e.StatusCode)
			d.set("error.code", itoa64(e.StatusCode))
		}
	case *telemetry.MCPServerConnection:
		d.set("event.duration", e.DurationMS*1_000_000)
		d.set("claude_code.mcp.server", e.ServerName)
		d.set("related.hosts", nonEmpty(e.ServerName))
		d.set("error.code", e.ErrorCode)
		d.set("error.message", e.Error)
	}
	d.setAttrs(GenAI(ev, opts))
	return d
}

func ecsCommon(d Document, r *telemetry.Record) {
	if r.Resource != nil {
		d.set("event.provider", r.Resource.ServiceName)
		d.set("service.name", r.Resource.ServiceName)
		d.set("service.version", r.Resource.ServiceVersion)
		d.set("host.architecture", r.Resource.HostArch)
		d.set("host.os.type", r.Resource.OSType)
		d.set("host.os.version", r.Resource.OSVersion)
		d.set("process.user.name", r.Resource.ProcessOwner)
	}
	d.set("user.id", r.AccountID)
	d.set("user.email", r.UserEmail)
	d.set("device.id", r.UserID)
	d.set("organization.id", r.OrganizationID)
	d.set("claude_code.user.account_uuid", r.AccountUUID)
	d.set("claude_code.session.id", r.SessionID)
	d.set("claude_code.prompt.id", r.PromptID)
	if r.SessionID != "" {
		d.set("claude_code.chain.id", ChainID(r.SessionID, r.PromptID))
	}
}

func ecsTool(d Document, v toolView) {
	d.set("process.command_line", v.command)
	if v.hasFile {
		d.set("file.path", v.file.Path)
	}
	d.set("url.full", v.url)
	if v.isMCP {
		d.set("claude_code.mcp.server", v.mcp.Server)
		d.set("related.hosts", nonEmpty(v.mcp.Server))
	}
}

func ecsCategory(ev telemetry.Event) (category, typ string) {
	switch e := ev.(type) {
	case *telemetry.ToolResult:
		if ft, ok := fileToolOf(e.ToolName); ok {
			switch ft.op {
			case telemetry.FileOpWrite:
				return "file", "creation"
			case telemetry.FileOpEdit:
				return "file", "change"
			}
			return "file", "access"
		}
		switch e.ToolName {
		case "Bash", "PowerShell":
			return "process", "start"
		case "WebFetch", "WebSearch":
			return "web", "access"
		}
		return "process", "info"
	case *telemetry.ToolDecision:
		if e.Decision == telemetry.DecisionReject {
			return "iam", "denied"
		}
		return "iam", "info"
	case *telemetry.APIRequest, *telemetry.APIError, *telemetry.APIRetriesExhausted:
		return "api", "info"
	case *telemetry.APIRefusal:
		return "api", "denied"
	case *telemetry.Auth:
		return "authentication", "info"
	case *telemetry.PermissionModeChanged:
		return "configuration", "change"
	case *telemetry.MCPServerConnection:
		return "network", "connection"
	case *telemetry.HookRegistered:
		return "configuration", "info"
	case *telemetry.HookExecutionStart:
		return "process", "start"
	case *telemetry.HookExecutionComplete:
		return "process", "end"
	case *telemetry.PluginLoaded:
		return "library", "start"
	case *telemetry.PluginInstalled:
		return "package", "info"
	case *telemetry.UserPrompt, *telemetry.SkillActivated:
		return "", ""
	}
	return "host", "info"
}

func ecsOutcome(ev telemetry.Event) string {
	switch e := ev.(type) {
	case *telemetry.ToolResult:
		if e.Success {
			return "success"
		}
		return "failure"
	case *telemetry.ToolDecision:
		switch e.Decision {
		case telemetry.DecisionAccept:
			return "success"
		case telemetry.DecisionReject:
			return "failure"
		}
	case *telemetry.APIRequest:
		return "success"
	case *telemetry.APIError, *telemetry.APIRetriesExhausted, *telemetry.APIRefusal:
		return "failure"
	case *telemetry.MCPServerConnection:
		if e.Status == telemetry.ConnectionStatusFailed {
			return "failure"
		}
		return "success"
	}
	return "unknown"
}

// ECSChain maps a chain to one ECS summary document: event.action prompt_chain, category
// session, the chain's time span and duration, the user, the GenAI root-span attributes (see
// [GenAIChain]) and the chain's summary under claude_code.chain.*. event.id is the chain id
// with its version (id:vN), so a newer version is a new document that SIEMs can collapse on
// claude_code.chain.id.
func ECSChain(c *Chain, opts SIEMOptions) Document {
	d := Document{}
	d.set("@timestamp", rfc3339ms(c.StartedAt))
	d.set("ecs.version", ECSVersion)
	d.set("event.kind", "event")
	d.set("event.action", "prompt_chain")
	d.set("event.category", []string{"session"})
	d.set("event.type", []string{"info"})
	d.set("event.id", c.ID+":v"+itoa64(int64(c.Version)))
	d.set("event.start", rfc3339ms(c.StartedAt))
	d.set("event.end", rfc3339ms(c.EndedAt))
	d.set("event.duration", c.EndedAt.Sub(c.StartedAt).Nanoseconds())
	switch {
	case c.Response == nil && len(c.APIErrors) > 0:
		d.set("event.outcome", "failure")
	case c.Complete:
		d.set("event.outcome", "success")
	default:
		d.set("event.outcome", "unknown")
	}
	d.set("event.provider", c.Product)
	d.set("service.name", c.Product)
	d.set("user.id", c.User.AccountID)
	d.set("user.email", c.User.Email)
	d.set("device.id", c.User.UserID)
	d.set("organization.id", c.User.OrganizationID)
	d.set("related.user", nonEmpty(c.User.Email, c.User.AccountID))
	d.set("related.hosts", c.MCPServers)
	d.set("claude_code.user.account_uuid", c.User.AccountUUID)
	d.set("claude_code.session.id", c.SessionID)
	d.set("claude_code.prompt.id", c.PromptID)
	d.setAttrs(GenAIChain(c, opts))
	ch := "claude_code.chain."
	d.set(ch+"version", int64(c.Version))
	d.set(ch+"parent_prompt_id", c.ParentPromptID)
	d.set(ch+"complete", c.Complete)
	reasons := make([]string, len(c.Reasons))
	for i, r := range c.Reasons {
		reasons[i] = r.String()
	}
	d.set(ch+"reasons", reasons)
	d.set(ch+"closed_by", c.ClosedBy.String())
	d.set(ch+"event_count", int64(c.EventCount))
	d.set(ch+"api_requests", int64(c.Totals.APIRequests))
	d.set(ch+"api_errors", int64(c.Totals.APIErrors))
	d.set(ch+"failed", int64(c.Totals.Failed))
	d.set(ch+"skills", c.Skills)
	d.set(ch+"plugins", c.Plugins)
	var tools, commands, files []string
	for _, t := range c.Tools {
		name := t.Name
		if t.MCPServer != "" {
			name = "mcp:" + t.MCPServer + "/" + t.MCPTool
		}
		if t.Rejected() {
			name += " (rejected by " + t.DecisionSource + ")"
		}
		tools = append(tools, name)
		if t.Command != "" {
			commands = append(commands, t.Command)
		}
	}
	for _, f := range c.Files {
		files = append(files, f.Operation+" "+f.Path)
	}
	d.set(ch+"tools", tools)
	d.set(ch+"commands", commands)
	d.set(ch+"files", files)
	return d
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
