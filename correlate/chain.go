package correlate

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/coworkgov/cowork/telemetry"
)

// Chain is everything done for one prompt: the events that share a (session.id, prompt.id),
// folded in event order. A chain with an empty PromptID is its session's preamble (startup
// events, plugin loads, MCP connections before the first prompt).
//
// A Chain is a value built once by [Fold] or an [Assembler] and not changed afterwards; it may
// be read from many goroutines. Its JSON form (encoding/json) is stable: snake_case fields, a
// fixed order, and byte-identical output for the same events. Events is not part of it.
type Chain struct {
	// ID is a stable hash of (SessionID, PromptID): see [ChainID].
	ID string `json:"id"`
	// SessionID and PromptID are the chain's key.
	SessionID string `json:"session_id"`
	PromptID  string `json:"prompt_id"`
	// ParentPromptID is set when a background subagent's <task-notification> opened this
	// chain: it names the prompt whose chain started the subagent.
	ParentPromptID string `json:"parent_prompt_id,omitempty"`
	// User is who ran the prompt, from the standard attributes.
	User User `json:"user"`
	// Product is the resource's service.name (cowork, claude-code, …).
	Product string `json:"product,omitempty"`
	// StartedAt and EndedAt are the times of the first and last event.
	StartedAt time.Time `json:"started_at"`
	EndedAt   time.Time `json:"ended_at"`
	// Prompt is the user_prompt, as redacted upstream; nil when the chain has none.
	Prompt *Prompt `json:"prompt,omitempty"`
	// Totals sums the chain's API calls, errors and tool calls.
	Totals Totals `json:"totals"`
	// APICalls lists every api_request in event order.
	APICalls []APICall `json:"api_calls"`
	// APIErrors lists every api_error (and api_retries_exhausted, api_refusal) in event order.
	APIErrors []APIError `json:"api_errors"`
	// Tools lists every tool call, a tool_decision and its tool_result joined on tool_use_id,
	// in the order of each call's first event. A rejected call has no result.
	Tools []ToolCall `json:"tools"`
	// MCPServers lists the MCP servers involved (called or connected), sorted.
	MCPServers []string `json:"mcp_servers"`
	// Skills, Plugins list the skills and plugins involved, sorted.
	Skills  []string `json:"skills"`
	Plugins []string `json:"plugins"`
	// Subagents lists the subagents that ran for the prompt, in order of first sight.
	Subagents []Subagent `json:"subagents"`
	// Files lists each (path, operation, tool) touched by file tools, in event order.
	Files []FileTouch `json:"files"`
	// Response is the last assistant_response of the main thread (not of a subagent).
	Response *Response `json:"response,omitempty"`
	// Complete reports whether the chain looks whole: a terminal event, no accepted call
	// without its result, no subagent still running, no sequence gap, not cut short by a limit.
	// Reasons says what is missing when it is false.
	Complete bool     `json:"complete"`
	Reasons  []Reason `json:"reasons"`
	// ClosedBy is the trigger that closed the chain.
	ClosedBy Trigger `json:"closed_by"`
	// Version counts emissions of the chain: 1, then N+1 for each amendment by late events.
	Version int `json:"version"`
	// EventCount is the number of distinct events folded (duplicates removed).
	EventCount int `json:"event_count"`

	// Events are the distinct events folded, in event order. They are shared with the caller
	// that added them: treat them as read-only.
	Events []telemetry.Event `json:"-"`
}

// IsPreamble reports whether c is a session's preamble (events without a prompt.id).
func (c *Chain) IsPreamble() bool { return c.PromptID == "" }

// User names the person behind a chain. AccountID (user_01…) is the Compliance API's key;
// AccountUUID is its alias; UserID is a per-install hash, not a person.
type User struct {
	AccountUUID    string `json:"account_uuid,omitempty"`
	AccountID      string `json:"account_id,omitempty"`
	Email          string `json:"email,omitempty"`
	UserID         string `json:"user_id,omitempty"`
	OrganizationID string `json:"organization_id,omitempty"`
}

// Prompt is a chain's user_prompt.
type Prompt struct {
	// Text is the prompt as it reached the assembler (redacted upstream, or <REDACTED>).
	Text   string `json:"text,omitempty"`
	Length int64  `json:"length,omitempty"`
	// Command is the slash command's name, when the prompt ran one.
	Command string `json:"command,omitempty"`
	// TaskNotification is set for a background subagent's synthetic completion notice.
	TaskNotification bool      `json:"task_notification,omitempty"`
	At               time.Time `json:"at"`
}

// Response is a chain's final assistant_response.
type Response struct {
	Text   string    `json:"text,omitempty"`
	Length int64     `json:"length,omitempty"`
	Model  string    `json:"model,omitempty"`
	At     time.Time `json:"at"`
}

// Totals sums a chain. CostUSD is summed in event order, so the same events always give the
// same float; CostUSDMicros is the exact integer sum of cost_usd_micros.
type Totals struct {
	CostUSD             float64 `json:"cost_usd"`
	CostUSDMicros       int64   `json:"cost_usd_micros"`
	InputTokens         int64   `json:"input_tokens"`
	OutputTokens        int64   `json:"output_tokens"`
	CacheReadTokens     int64   `json:"cache_read_tokens"`
	CacheCreationTokens int64   `json:"cache_creation_tokens"`
	APIRequests         int     `json:"api_requests"`
	APIErrors           int     `json:"api_errors"`
	ToolCalls           int     `json:"tool_calls"`
	Rejected            int     `json:"rejected"`
	Failed              int     `json:"failed"`
	DurationMS          int64   `json:"duration_ms"`
}

func (t *Totals) add(o Totals) {
	t.CostUSD += o.CostUSD
	t.CostUSDMicros += o.CostUSDMicros
	t.InputTokens += o.InputTokens
	t.OutputTokens += o.OutputTokens
	t.CacheReadTokens += o.CacheReadTokens
	t.CacheCreationTokens += o.CacheCreationTokens
	t.APIRequests += o.APIRequests
	t.APIErrors += o.APIErrors
	t.ToolCalls += o.ToolCalls
	t.Rejected += o.Rejected
	t.Failed += o.Failed
	t.DurationMS += o.DurationMS
}

// APICall is one api_request.
type APICall struct {
	Sequence            int64     `json:"sequence"`
	At                  time.Time `json:"at"`
	Model               string    `json:"model,omitempty"`
	RequestID           string    `json:"request_id,omitempty"`
	InputTokens         int64     `json:"input_tokens"`
	OutputTokens        int64     `json:"output_tokens"`
	CacheReadTokens     int64     `json:"cache_read_tokens"`
	CacheCreationTokens int64     `json:"cache_creation_tokens"`
	CostUSD             float64   `json:"cost_usd"`
	CostUSDMicros       int64     `json:"cost_usd_micros"`
	DurationMS          int64     `json:"duration_ms"`
	TTFTMS              int64     `json:"ttft_ms"`
	// Attempt is the attempt number when the event carries one (api_request does not today).
	Attempt     int64  `json:"attempt,omitempty"`
	QuerySource string `json:"query_source,omitempty"`
	AgentID     string `json:"agent_id,omitempty"`
	Skill       string `json:"skill,omitempty"`
	Plugin      string `json:"plugin,omitempty"`
	MCPServer   string `json:"mcp_server,omitempty"`
	MCPTool     string `json:"mcp_tool,omitempty"`
}

// APIError is one api_error, api_retries_exhausted or api_refusal.
type APIError struct {
	Sequence int64     `json:"sequence"`
	At       time.Time `json:"at"`
	// Kind is the event name: api_error, api_retries_exhausted or api_refusal.
	Kind       string `json:"kind"`
	Model      string `json:"model,omitempty"`
	Error      string `json:"error,omitempty"`
	StatusCode int64  `json:"status_code,omitempty"`
	DurationMS int64  `json:"duration_ms,omitempty"`
	Attempt    int64  `json:"attempt,omitempty"`
	RequestID  string `json:"request_id,omitempty"`
	AgentID    string `json:"agent_id,omitempty"`
}

// ToolCall is one tool call: its tool_decision and tool_result joined on tool_use_id.
type ToolCall struct {
	ToolUseID string `json:"tool_use_id"`
	Name      string `json:"name"`
	// MCPServer and MCPTool name an MCP call's server and tool.
	MCPServer string `json:"mcp_server,omitempty"`
	MCPTool   string `json:"mcp_tool,omitempty"`
	// Decision is accept or reject (the wire value; empty when no decision was seen), and
	// DecisionSource who made it: config, hook, user_permanent, user_temporary, user_abort,
	// user_reject.
	Decision       string `json:"decision,omitempty"`
	DecisionSource string `json:"decision_source,omitempty"`
	// HasResult reports whether a tool_result was seen; a rejected call has none.
	HasResult bool `json:"has_result"`
	// Success is the result's success flag; nil without a result.
	Success    *bool  `json:"success,omitempty"`
	DurationMS int64  `json:"duration_ms,omitempty"`
	ErrorType  string `json:"error_type,omitempty"`
	Error      string `json:"error,omitempty"`
	// Command is the Bash/PowerShell command line from tool_parameters (as redacted upstream).
	Command string `json:"command,omitempty"`
	// Skill and Subagent name the skill a Skill call ran and the subagent type an Agent call
	// started.
	Skill    string    `json:"skill,omitempty"`
	Subagent string    `json:"subagent,omitempty"`
	AgentID  string    `json:"agent_id,omitempty"`
	At       time.Time `json:"at"`
	// DecisionSequence and ResultSequence are the events' event.sequence (-1 when absent).
	DecisionSequence int64 `json:"decision_sequence"`
	ResultSequence   int64 `json:"result_sequence"`
}

// Rejected reports whether the call's decision refused it.
func (t *ToolCall) Rejected() bool { return t.Decision == "reject" }

// Subagent is one subagent seen in a chain.
type Subagent struct {
	AgentID       string `json:"agent_id,omitempty"`
	Type          string `json:"type,omitempty"`
	Async         bool   `json:"async,omitempty"`
	Completed     bool   `json:"completed"`
	DurationMS    int64  `json:"duration_ms,omitempty"`
	TotalTokens   int64  `json:"total_tokens,omitempty"`
	TotalToolUses int64  `json:"total_tool_uses,omitempty"`
	Model         string `json:"model,omitempty"`
}

// FileTouch is one file access read from a file tool's input.
type FileTouch struct {
	Path      string `json:"path"`
	Operation string `json:"operation"`
	Tool      string `json:"tool"`
	Pattern   string `json:"pattern,omitempty"`
	ToolUseID string `json:"tool_use_id,omitempty"`
}

// ChainID returns the stable id of the chain (sessionID, promptID): the first 16 bytes of
// SHA-256 over both, separated by a zero byte, as 32 lower-case hex digits.
func ChainID(sessionID, promptID string) string {
	var buf [128]byte
	msg := buf[:0]
	if len(sessionID)+1+len(promptID) > len(buf) {
		msg = make([]byte, 0, len(sessionID)+1+len(promptID))
	}
	msg = append(append(append(msg, sessionID...), 0), promptID...)
	sum := sha256.Sum256(msg)
	var id [32]byte
	hex.Encode(id[:], sum[:16])
	return string(id[:])
}
