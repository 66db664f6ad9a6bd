package correlate

import (
	"strconv"

	"github.com/coworkgov/cowork/telemetry"
)

// SIEMOptions configures the SIEM and GenAI mappings ([ECS], [OCSF], [HEC], [GenAI]). The
// zero value maps no content.
type SIEMOptions struct {
	// Content adds the prompt and response text (gen_ai.input.messages,
	// gen_ai.output.messages and their ECS/OCSF homes), which the GenAI conventions make
	// opt-in. Command lines, file paths and URLs are always mapped: they are what a SIEM
	// investigates. Redact upstream either way.
	Content bool
}

// providerName maps anthropic.provider to gen_ai.provider.name.
func providerName(p string) string {
	switch p {
	case "bedrock":
		return "aws.bedrock"
	case "vertex":
		return "gcp.vertex_ai"
	case "foundry":
		return "azure.ai.foundry"
	}
	return "anthropic"
}

func agentName(r *telemetry.Record) string {
	if r.Resource != nil && r.Resource.ServiceName != "" {
		return r.Resource.ServiceName
	}
	return "claude-code"
}

type kvs []telemetry.KeyValue

func (a *kvs) str(k, v string) {
	if v != "" {
		*a = append(*a, telemetry.KeyValue{Key: k, Value: telemetry.String(v)})
	}
}
func (a *kvs) int(k string, v int64) {
	*a = append(*a, telemetry.KeyValue{Key: k, Value: telemetry.Int(v)})
}
func (a *kvs) dbl(k string, v float64) {
	*a = append(*a, telemetry.KeyValue{Key: k, Value: telemetry.Double(v)})
}
func (a *kvs) boolean(k string, v bool) {
	*a = append(*a, telemetry.KeyValue{Key: k, Value: telemetry.Bool(v)})
}

// GenAI returns the OpenTelemetry GenAI semantic-convention attributes (gen_ai.*, mcp.*,
// error.type, plus claude_code.* where the conventions have no key) for one event, in a fixed
// order:
//
//	Cowork / Claude Code           GenAI semantic conventions
//	session.id                     gen_ai.conversation.id
//	anthropic.provider             gen_ai.provider.name (anthropic, aws.bedrock, gcp.vertex_ai)
//	user_prompt                    gen_ai.operation.name=invoke_agent, gen_ai.agent.name=service.name
//	api_request / api_error        gen_ai.operation.name=chat
//	model                          gen_ai.request.model, gen_ai.response.model
//	request_id                     gen_ai.response.id
//	input+cache_read+cache_creation gen_ai.usage.input_tokens (the Anthropic rule: the sum)
//	output_tokens                  gen_ai.usage.output_tokens
//	cache_read_tokens              gen_ai.usage.cache_read.input_tokens
//	cache_creation_tokens          gen_ai.usage.cache_creation.input_tokens
//	ttft_ms                        gen_ai.response.time_to_first_chunk (seconds)
//	cost_usd, query_source         claude_code.cost_usd, claude_code.query_source
//	tool_decision / tool_result    gen_ai.operation.name=execute_tool
//	tool_use_id, tool_name         gen_ai.tool.call.id, gen_ai.tool.name (MCP: the MCP tool)
//	MCP call                       mcp.method.name=tools/call, claude_code.mcp.server
//	decision, source               claude_code.tool.decision, claude_code.tool.decision_source
//	reject / failure               error.type = rejected / the error_type (else tool_error)
//	subagent_completed, agent_id   gen_ai.operation.name=invoke_agent, gen_ai.agent.id, gen_ai.agent.name
//	skill_activated                gen_ai.operation.name=execute_tool, gen_ai.tool.name=skill
//	prompt / response (Content)    gen_ai.input.messages / gen_ai.output.messages
func GenAI(ev telemetry.Event, opts SIEMOptions) []telemetry.KeyValue {
	r := ev.EventRecord()
	var a kvs
	switch e := ev.(type) {
	case *telemetry.UserPrompt:
		a.str("gen_ai.operation.name", "invoke_agent")
		a.str("gen_ai.agent.name", agentName(r))
		if opts.Content {
			a.str("gen_ai.input.messages", e.Prompt)
		}
	case *telemetry.APIRequest:
		a.str("gen_ai.operation.name", "chat")
		a.str("gen_ai.request.model", e.Model)
		a.str("gen_ai.response.model", e.Model)
		a.str("gen_ai.response.id", e.RequestID)
		a.int("gen_ai.usage.input_tokens", e.InputTokens+e.CacheReadTokens+e.CacheCreationTokens)
		a.int("gen_ai.usage.output_tokens", e.OutputTokens)
		a.int("gen_ai.usage.cache_read.input_tokens", e.CacheReadTokens)
		a.int("gen_ai.usage.cache_creation.input_tokens", e.CacheCreationTokens)
		a.dbl("gen_ai.response.time_to_first_chunk", float64(e.TTFTMS)/1000)
		a.str("gen_ai.agent.id", e.AgentID)
		a.dbl("claude_code.cost_usd", e.CostUSD)
		a.str("claude_code.query_source", e.QuerySource)
	case *telemetry.APIError:
		a.str("gen_ai.operation.name", "chat")
		a.str("gen_ai.request.model", e.Model)
		a.str("gen_ai.agent.id", e.AgentID)
		if e.StatusCode != 0 {
			a.str("error.type", strconv.FormatInt(e.StatusCode, 10))
		} else {
			a.str("error.type", "api_error")
		}
	case *telemetry.AssistantResponse:
		a.str("gen_ai.operation.name", "invoke_agent")
		a.str("gen_ai.agent.name", agentName(r))
		a.str("gen_ai.response.model", e.Model)
		a.str("gen_ai.response.id", e.RequestID)
		a.str("gen_ai.agent.id", e.AgentID)
		if opts.Content {
			a.str("gen_ai.output.messages", e.Response)
		}
	case *telemetry.ToolDecision:
		toolAttrs(&a, e.ToolUseID, e.ToolName, e.ToolParameters)
		a.str("claude_code.tool.decision", rawText(e, telemetry.KeyDecision, e.Decision.String()))
		a.str("claude_code.tool.decision_source", rawText(e, telemetry.KeySource, e.Source.String()))
		if e.Decision == telemetry.DecisionReject {
			a.str("error.type", "rejected")
		}
	case *telemetry.ToolResult:
		toolAttrs(&a, e.ToolUseID, e.ToolName, e.ToolParameters)
		if !e.Success {
			if e.ErrorType != "" {
				a.str("error.type", e.ErrorType)
			} else {
				a.str("error.type", "tool_error")
			}
		}
	case *telemetry.SubagentCompleted:
		a.str("gen_ai.operation.name", "invoke_agent")
		a.str("gen_ai.agent.id", e.AgentID)
		a.str("gen_ai.agent.name", e.AgentType)
		a.str("gen_ai.response.model", e.FinalModel)
	case *telemetry.SkillActivated:
		a.str("gen_ai.operation.name", "execute_tool")
		a.str("gen_ai.tool.name", e.SkillName)
		a.str("claude_code.skill.name", e.SkillName)
	}
	a.str("gen_ai.conversation.id", r.SessionID)
	if len(a) > 1 || r.Provider != "" {
		a.str("gen_ai.provider.name", providerName(r.Provider))
	}
	return a
}

func toolAttrs(a *kvs, id, name, params string) {
	a.str("gen_ai.operation.name", "execute_tool")
	a.str("gen_ai.tool.call.id", id)
	var tf toolFields
	scanToolParameters(params, &tf)
	if mcp, ok := mcpCall(name, params, &tf); ok {
		a.str("gen_ai.tool.name", cmpOr(mcp.Tool, name))
		a.str("mcp.method.name", "tools/call")
		a.str("claude_code.mcp.server", mcp.Server)
		return
	}
	a.str("gen_ai.tool.name", name)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// GenAIChain returns the attributes of the invoke_agent root span a chain stands for: the
// agent, conversation, summed usage (input tokens include cache reads and writes), cost and
// the chain's keys.
func GenAIChain(c *Chain, opts SIEMOptions) []telemetry.KeyValue {
	var a kvs
	a.str("gen_ai.operation.name", "invoke_agent")
	a.str("gen_ai.agent.name", cmpOr(c.Product, "claude-code"))
	a.str("gen_ai.conversation.id", c.SessionID)
	if len(c.APICalls) > 0 {
		a.str("gen_ai.request.model", c.APICalls[0].Model)
	}
	t := c.Totals
	a.int("gen_ai.usage.input_tokens", t.InputTokens+t.CacheReadTokens+t.CacheCreationTokens)
	a.int("gen_ai.usage.output_tokens", t.OutputTokens)
	a.int("gen_ai.usage.cache_read.input_tokens", t.CacheReadTokens)
	a.int("gen_ai.usage.cache_creation.input_tokens", t.CacheCreationTokens)
	if c.Response == nil && len(c.APIErrors) > 0 {
		a.str("error.type", "api_error")
	}
	if opts.Content {
		if c.Prompt != nil {
			a.str("gen_ai.input.messages", c.Prompt.Text)
		}
		if c.Response != nil {
			a.str("gen_ai.output.messages", c.Response.Text)
		}
	}
	a.str("claude_code.chain.id", c.ID)
	a.str("claude_code.prompt.id", c.PromptID)
	a.str("claude_code.parent_prompt.id", c.ParentPromptID)
	a.dbl("claude_code.cost_usd", t.CostUSD)
	a.int("claude_code.tool_calls", int64(t.ToolCalls))
	a.int("claude_code.rejected", int64(t.Rejected))
	a.boolean("claude_code.complete", c.Complete)
	return a
}
