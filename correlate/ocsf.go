package correlate

import (
	"strings"

	"github.com/coworkgov/cowork/telemetry"
)

// OCSFVersion is the OCSF schema version the OCSF events declare.
const OCSFVersion = "1.9.0"

// The OCSF classes the mapping uses.
const (
	OCSFBaseEvent            = 0
	OCSFFileSystemActivity   = 1001
	OCSFProcessActivity      = 1007
	OCSFAuthentication       = 3002
	OCSFHTTPActivity         = 4002
	OCSFApplicationLifecycle = 6002
	OCSFAPIActivity          = 6003
)

// OCSF maps one event to an OCSF 1.9.0 event. OCSF 1.9 has no AI class, so model and agent
// activity is API Activity with the ai_operation profile, and permission decisions carry the
// security_control profile (action_id 1 Allowed / 2 Denied):
//
//	user_prompt                  API Activity 6003, activity 99, message_context.uid = prompt.id
//	api_request                  6003, activity 99, ai_model, message_context tokens, status 1
//	api_error, api_refusal,      6003, activity 99, status 2 Failure, status_code
//	  api_retries_exhausted
//	tool_decision                the tool's class (below), security_control: action_id and
//	                             disposition_id 1 Allowed / 2 Blocked
//	tool_result Bash/PowerShell  Process Activity 1007, activity 1 Launch, process.cmd_line
//	tool_result file tools       File System Activity 1001: Read 2, Write 1 Create, Edit 3
//	                             Update, searches 99 Other; file.path
//	tool_result WebFetch         HTTP Activity 4002, activity 3 Get, http_request.url.url_string
//	tool_result mcp_tool         6003, api.service.name = mcp:<server>, api.operation = tool
//	other tools, subagents       6003, activity 99
//	auth                         Authentication 3002, activity 1 Logon / 2 Logoff
//	plugin_installed / _loaded   Application Lifecycle 6002, activity 1 Install / 3 Start
//	anything else                Base Event 0, activity 99
//
// Every event: type_uid = class_uid × 100 + activity_id, category_uid = class_uid / 1000,
// time in ms, severity_id 1, metadata.uid = [EventID], metadata.correlation_uid = prompt.id,
// metadata.product {name: service.name, vendor_name: Anthropic, version}, actor.user {uid:
// account id, email_addr, uid_alt: account UUID}, and session.id, chain id and event name
// under unmapped.
func OCSF(ev telemetry.Event, opts SIEMOptions) Document {
	r := ev.EventRecord()
	d := Document{}
	class, activity := OCSFAPIActivity, 99
	status := 0
	profiles := []string{}
	switch e := ev.(type) {
	case *telemetry.UserPrompt:
		profiles = append(profiles, "ai_operation")
		d.set("message_context.uid", r.PromptID)
		d.set("api.operation", "user_prompt")
		if opts.Content {
			d.set("message", e.Prompt)
		}
	case *telemetry.APIRequest:
		profiles = append(profiles, "ai_operation")
		status = 1
		d.set("api.operation", "llm.completion")
		d.set("api.service.name", providerName(r.Provider))
		d.set("api.request.uid", e.RequestID)
		d.set("ai_model.name", e.Model)
		d.set("ai_model.ai_provider", providerName(r.Provider))
		d.set("message_context.uid", r.PromptID)
		in := e.InputTokens + e.CacheReadTokens + e.CacheCreationTokens
		d.set("message_context.prompt_tokens", in)
		d.set("message_context.completion_tokens", e.OutputTokens)
		d.set("message_context.total_tokens", in+e.OutputTokens)
		d.set("duration", e.DurationMS)
	case *telemetry.APIError:
		profiles = append(profiles, "ai_operation")
		status = 2
		d.set("api.operation", "llm.completion")
		d.set("ai_model.name", e.Model)
		d.set("status_detail", e.Error)
		if e.StatusCode != 0 {
			d.set("status_code", itoa64(e.StatusCode))
		}
		d.set("duration", e.DurationMS)
	case *telemetry.APIRefusal, *telemetry.APIRetriesExhausted:
		profiles = append(profiles, "ai_operation")
		status = 2
		d.set("api.operation", "llm.completion")
	case *telemetry.ToolDecision:
		v := viewTool(e.ToolName, e.ToolUseID, e.ToolParameters, "")
		class, activity = ocsfTool(d, v)
		profiles = append(profiles, "security_control")
		switch e.Decision {
		case telemetry.DecisionAccept:
			d.set("action_id", 1)
			d.set("action", "Allowed")
			d.set("disposition_id", 1)
			d.set("disposition", "Allowed")
		case telemetry.DecisionReject:
			d.set("action_id", 2)
			d.set("action", "Denied")
			d.set("disposition_id", 2)
			d.set("disposition", "Blocked")
		}
		d.set("unmapped.decision_source", rawText(e, telemetry.KeySource, e.Source.String()))
	case *telemetry.ToolResult:
		v := viewTool(e.ToolName, e.ToolUseID, e.ToolParameters, e.ToolInput)
		class, activity = ocsfTool(d, v)
		status = 2
		if e.Success {
			status = 1
		}
		d.set("duration", e.DurationMS)
		d.set("status_detail", e.ErrorType)
	case *telemetry.SubagentCompleted:
		profiles = append(profiles, "ai_operation")
		d.set("ai_agent.uid", e.AgentID)
		d.set("ai_agent.type", e.AgentType)
		d.set("duration", e.DurationMS)
		status = 1
	case *telemetry.Auth:
		class, activity = OCSFAuthentication, 1
		if strings.EqualFold(e.Action, "logout") {
			activity = 2
		}
		status = 2
		if e.Success {
			status = 1
		}
	case *telemetry.PluginInstalled:
		class, activity = OCSFApplicationLifecycle, 1
		d.set("app.name", e.PluginName)
		d.set("app.version", e.PluginVersion)
	case *telemetry.PluginLoaded:
		class, activity = OCSFApplicationLifecycle, 3
		d.set("app.name", e.PluginName)
		d.set("app.version", e.PluginVersion)
	case *telemetry.AssistantResponse:
		profiles = append(profiles, "ai_operation")
		d.set("ai_model.name", e.Model)
		d.set("message_context.uid", r.PromptID)
		if opts.Content {
			d.set("message", e.Response)
		}
	default:
		class = OCSFBaseEvent
	}
	d.set("class_uid", class)
	d.set("category_uid", class/1000)
	d.set("activity_id", activity)
	d.set("type_uid", class*100+activity)
	d.set("severity_id", 1)
	d.set("status_id", status)
	d.set("time", r.Time().UnixMilli())
	d.set("metadata.version", OCSFVersion)
	d.set("metadata.uid", EventID(ev))
	d.set("metadata.correlation_uid", r.PromptID)
	d.set("metadata.original_time", rfc3339ms(r.Time()))
	d.set("metadata.profiles", profiles)
	d.set("metadata.product.vendor_name", "Anthropic")
	product := "Claude Code"
	if r.Resource != nil {
		if r.Resource.ServiceName == "cowork" {
			product = "Cowork"
		}
		d.set("metadata.product.version", r.Resource.ServiceVersion)
		d.set("device.os.type", r.Resource.OSType)
		d.set("device.os.version", r.Resource.OSVersion)
	}
	d.set("metadata.product.name", product)
	d.set("metadata.tenant_uid", r.OrganizationID)
	d.set("actor.user.uid", r.AccountID)
	d.set("actor.user.email_addr", r.UserEmail)
	d.set("actor.user.uid_alt", r.AccountUUID)
	d.set("unmapped.event_name", ev.Name())
	d.set("unmapped.session_id", r.SessionID)
	d.set("unmapped.sequence", r.Sequence)
	if r.SessionID != "" {
		d.set("unmapped.chain_id", ChainID(r.SessionID, r.PromptID))
	}
	return d
}

// ocsfTool picks the class and activity for a tool call and sets its object fields.
func ocsfTool(d Document, v toolView) (class, activity int) {
	d.set("unmapped.tool_name", v.name)
	d.set("unmapped.tool_use_id", v.id)
	switch {
	case v.isMCP:
		d.set("api.service.name", "mcp:"+v.mcp.Server)
		d.set("api.operation", v.mcp.Tool)
		return OCSFAPIActivity, 99
	case v.name == "Bash" || v.name == "PowerShell":
		d.set("process.cmd_line", v.command)
		return OCSFProcessActivity, 1
	case v.name == "WebFetch":
		d.set("http_request.url.url_string", v.url)
		d.set("http_request.http_method", "GET")
		return OCSFHTTPActivity, 3
	}
	if ft, ok := fileToolOf(v.name); ok {
		if v.hasFile {
			d.set("file.path", v.file.Path)
			d.set("file.name", v.file.Path[strings.LastIndexByte(v.file.Path, '/')+1:])
		}
		switch ft.op {
		case telemetry.FileOpRead:
			return OCSFFileSystemActivity, 2
		case telemetry.FileOpWrite:
			return OCSFFileSystemActivity, 1
		case telemetry.FileOpEdit:
			return OCSFFileSystemActivity, 3
		}
		return OCSFFileSystemActivity, 99
	}
	d.set("api.operation", v.name)
	return OCSFAPIActivity, 99
}
