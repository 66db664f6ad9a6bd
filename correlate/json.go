package correlate

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"
)

// AppendJSON appends c's JSON to b and returns the extended slice. The bytes are exactly
// those of json.Marshal(c): the same fields in the same order, omitempty, null for a nil
// list and [] for an empty one, times as [time.Time.MarshalJSON] writes them, floats and
// strings as encoding/json writes them (HTML characters, U+2028 and U+2029 escaped, invalid
// UTF-8 as \ufffd). It is written field by field, without reflection or allocation beyond
// growing b.
//
// Where json.Marshal fails (a NaN or infinite cost, a time outside years 0–9999 or with a zone
// offset of 24 hours or more, a Reason that [Reason.MarshalText] refuses) AppendJSON returns
// json.Marshal's error and b unchanged. A nil c appends null.
func (c *Chain) AppendJSON(b []byte) ([]byte, error) {
	if c == nil {
		return append(b, "null"...), nil
	}
	n0 := len(b)
	if need := c.jsonSizeHint(); cap(b)-len(b) < need {
		nb := make([]byte, len(b), len(b)+need)
		copy(nb, b)
		b = nb
	}
	e := jsonEncoder{b: b}
	e.chain(c)
	if !e.failed {
		return e.b, nil
	}
	// Rare: let encoding/json name the problem (and, should it accept what was refused here,
	// its bytes are the answer).
	js, err := json.Marshal(c)
	if err != nil {
		return b[:n0], err
	}
	return append(e.b[:n0], js...), nil
}

// jsonSizeHint estimates the length of c's JSON, a little over for the usual chain, so that
// AppendJSON(nil) allocates once.
func (c *Chain) jsonSizeHint() int {
	n := 700 + len(c.ParentPromptID) + len(c.Product) +
		len(c.User.AccountUUID) + len(c.User.AccountID) + len(c.User.Email) + len(c.User.UserID) + len(c.User.OrganizationID) +
		len(c.APICalls)*420 + len(c.APIErrors)*260 + len(c.Tools)*380 + len(c.Subagents)*180 + len(c.Reasons)*20
	if p := c.Prompt; p != nil {
		n += 100 + len(p.Text) + len(p.Text)/8 + len(p.Command)
	}
	if r := c.Response; r != nil {
		n += 100 + len(r.Text) + len(r.Text)/8 + len(r.Model)
	}
	for _, s := range [3][]string{c.MCPServers, c.Skills, c.Plugins} {
		for _, x := range s {
			n += len(x) + 3
		}
	}
	for i := range c.Files {
		f := &c.Files[i]
		n += 80 + len(f.Path) + len(f.Pattern) + len(f.ToolUseID)
	}
	for i := range c.Tools {
		n += len(c.Tools[i].Command) + len(c.Tools[i].Error)
	}
	return n
}

// jsonEncoder appends JSON to b; failed records a value that json.Marshal refuses.
type jsonEncoder struct {
	b      []byte
	failed bool
}

func (e *jsonEncoder) raw(s string) { e.b = append(e.b, s...) }

func (e *jsonEncoder) str(s string) { e.b = appendJSONString(e.b, s) }

// optStr writes ,"key":value (key includes its quotes, colon and leading comma) unless s is
// empty.
func (e *jsonEncoder) optStr(key, s string) {
	if s != "" {
		e.b = append(e.b, key...)
		e.b = appendJSONString(e.b, s)
	}
}

func (e *jsonEncoder) int(key string, v int64) {
	e.b = append(e.b, key...)
	e.b = strconv.AppendInt(e.b, v, 10)
}

func (e *jsonEncoder) optInt(key string, v int64) {
	if v != 0 {
		e.b = append(e.b, key...)
		e.b = strconv.AppendInt(e.b, v, 10)
	}
}

func (e *jsonEncoder) bool(key string, v bool) {
	e.b = append(e.b, key...)
	e.b = strconv.AppendBool(e.b, v)
}

// float writes f as encoding/json's floatEncoder does for a float64: like strconv 'f', but
// 'e' below 1e-6 and from 1e21, with the exponent's leading zero dropped (1e-07 → 1e-7).
func (e *jsonEncoder) float(key string, f float64) {
	e.b = append(e.b, key...)
	if math.IsInf(f, 0) || math.IsNaN(f) {
		e.failed = true
		e.b = append(e.b, '0')
		return
	}
	fmt := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		fmt = 'e'
	}
	b := strconv.AppendFloat(e.b, f, fmt, -1, 64)
	if fmt == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	e.b = b
}

// time writes t as [time.Time.MarshalJSON] does: RFC 3339 with nanoseconds, quoted.
func (e *jsonEncoder) time(key string, t time.Time) {
	e.b = append(e.b, key...)
	e.b = append(e.b, '"')
	if b, err := t.AppendText(e.b); err != nil {
		e.failed = true
	} else {
		e.b = b
	}
	e.b = append(e.b, '"')
}

func (e *jsonEncoder) strings(key string, ss []string) {
	e.b = append(e.b, key...)
	if ss == nil {
		e.raw("null")
		return
	}
	e.b = append(e.b, '[')
	for i, s := range ss {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.str(s)
	}
	e.b = append(e.b, ']')
}

func (e *jsonEncoder) chain(c *Chain) {
	e.raw(`{"id":`)
	e.str(c.ID)
	e.raw(`,"session_id":`)
	e.str(c.SessionID)
	e.raw(`,"prompt_id":`)
	e.str(c.PromptID)
	e.optStr(`,"parent_prompt_id":`, c.ParentPromptID)
	e.raw(`,"user":`)
	e.user(&c.User)
	e.optStr(`,"product":`, c.Product)
	e.time(`,"started_at":`, c.StartedAt)
	e.time(`,"ended_at":`, c.EndedAt)
	if c.Prompt != nil {
		e.prompt(c.Prompt)
	}
	e.raw(`,"totals":`)
	e.totals(&c.Totals)

	e.raw(`,"api_calls":`)
	if c.APICalls == nil {
		e.raw("null")
	} else {
		e.b = append(e.b, '[')
		for i := range c.APICalls {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.apiCall(&c.APICalls[i])
		}
		e.b = append(e.b, ']')
	}

	e.raw(`,"api_errors":`)
	if c.APIErrors == nil {
		e.raw("null")
	} else {
		e.b = append(e.b, '[')
		for i := range c.APIErrors {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.apiError(&c.APIErrors[i])
		}
		e.b = append(e.b, ']')
	}

	e.raw(`,"tools":`)
	if c.Tools == nil {
		e.raw("null")
	} else {
		e.b = append(e.b, '[')
		for i := range c.Tools {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.toolCall(&c.Tools[i])
		}
		e.b = append(e.b, ']')
	}

	e.strings(`,"mcp_servers":`, c.MCPServers)
	e.strings(`,"skills":`, c.Skills)
	e.strings(`,"plugins":`, c.Plugins)

	e.raw(`,"subagents":`)
	if c.Subagents == nil {
		e.raw("null")
	} else {
		e.b = append(e.b, '[')
		for i := range c.Subagents {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.subagent(&c.Subagents[i])
		}
		e.b = append(e.b, ']')
	}

	e.raw(`,"files":`)
	if c.Files == nil {
		e.raw("null")
	} else {
		e.b = append(e.b, '[')
		for i := range c.Files {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.fileTouch(&c.Files[i])
		}
		e.b = append(e.b, ']')
	}

	if c.Response != nil {
		e.response(c.Response)
	}
	e.bool(`,"complete":`, c.Complete)

	e.raw(`,"reasons":`)
	if c.Reasons == nil {
		e.raw("null")
	} else {
		e.b = append(e.b, '[')
		for i, r := range c.Reasons {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			// Reason.MarshalText: its name, or an error for ReasonUnknown and unknown values.
			if r == ReasonUnknown || r >= numReasons {
				e.failed = true
			}
			e.str(r.String())
		}
		e.b = append(e.b, ']')
	}

	// Trigger.MarshalText: its name, "" for TriggerUnknown and unknown values.
	e.raw(`,"closed_by":`)
	e.str(c.ClosedBy.String())
	e.int(`,"version":`, int64(c.Version))
	e.int(`,"event_count":`, int64(c.EventCount))
	e.b = append(e.b, '}')
	// Events is json:"-".
}

func (e *jsonEncoder) user(u *User) {
	e.b = append(e.b, '{')
	n := len(e.b)
	// The first field present has no leading comma.
	for _, f := range [...]struct{ key, v string }{
		{`,"account_uuid":`, u.AccountUUID},
		{`,"account_id":`, u.AccountID},
		{`,"email":`, u.Email},
		{`,"user_id":`, u.UserID},
		{`,"organization_id":`, u.OrganizationID},
	} {
		if f.v == "" {
			continue
		}
		key := f.key
		if len(e.b) == n {
			key = key[1:]
		}
		e.optStr(key, f.v)
	}
	e.b = append(e.b, '}')
}

func (e *jsonEncoder) prompt(p *Prompt) {
	e.raw(`,"prompt":{`)
	n := len(e.b)
	e.optStr(`"text":`, p.Text)
	if p.Length != 0 {
		e.int(sep(len(e.b) > n, `,"length":`), p.Length)
	}
	if p.Command != "" {
		e.optStr(sep(len(e.b) > n, `,"command":`), p.Command)
	}
	if p.TaskNotification {
		e.bool(sep(len(e.b) > n, `,"task_notification":`), true)
	}
	e.time(sep(len(e.b) > n, `,"at":`), p.At)
	e.b = append(e.b, '}')
}

func (e *jsonEncoder) response(r *Response) {
	e.raw(`,"response":{`)
	n := len(e.b)
	e.optStr(`"text":`, r.Text)
	if r.Length != 0 {
		e.int(sep(len(e.b) > n, `,"length":`), r.Length)
	}
	if r.Model != "" {
		e.optStr(sep(len(e.b) > n, `,"model":`), r.Model)
	}
	e.time(sep(len(e.b) > n, `,"at":`), r.At)
	e.b = append(e.b, '}')
}

// sep returns key (",name":) with its leading comma, or without it for an object's first field.
func sep(after bool, key string) string {
	if after {
		return key
	}
	return key[1:]
}

func (e *jsonEncoder) totals(t *Totals) {
	e.float(`{"cost_usd":`, t.CostUSD)
	e.int(`,"cost_usd_micros":`, t.CostUSDMicros)
	e.int(`,"input_tokens":`, t.InputTokens)
	e.int(`,"output_tokens":`, t.OutputTokens)
	e.int(`,"cache_read_tokens":`, t.CacheReadTokens)
	e.int(`,"cache_creation_tokens":`, t.CacheCreationTokens)
	e.int(`,"api_requests":`, int64(t.APIRequests))
	e.int(`,"api_errors":`, int64(t.APIErrors))
	e.int(`,"tool_calls":`, int64(t.ToolCalls))
	e.int(`,"rejected":`, int64(t.Rejected))
	e.int(`,"failed":`, int64(t.Failed))
	e.int(`,"duration_ms":`, t.DurationMS)
	e.b = append(e.b, '}')
}

func (e *jsonEncoder) apiCall(a *APICall) {
	e.int(`{"sequence":`, a.Sequence)
	e.time(`,"at":`, a.At)
	e.optStr(`,"model":`, a.Model)
	e.optStr(`,"request_id":`, a.RequestID)
	e.int(`,"input_tokens":`, a.InputTokens)
	e.int(`,"output_tokens":`, a.OutputTokens)
	e.int(`,"cache_read_tokens":`, a.CacheReadTokens)
	e.int(`,"cache_creation_tokens":`, a.CacheCreationTokens)
	e.float(`,"cost_usd":`, a.CostUSD)
	e.int(`,"cost_usd_micros":`, a.CostUSDMicros)
	e.int(`,"duration_ms":`, a.DurationMS)
	e.int(`,"ttft_ms":`, a.TTFTMS)
	e.optInt(`,"attempt":`, a.Attempt)
	e.optStr(`,"query_source":`, a.QuerySource)
	e.optStr(`,"agent_id":`, a.AgentID)
	e.optStr(`,"skill":`, a.Skill)
	e.optStr(`,"plugin":`, a.Plugin)
	e.optStr(`,"mcp_server":`, a.MCPServer)
	e.optStr(`,"mcp_tool":`, a.MCPTool)
	e.b = append(e.b, '}')
}

func (e *jsonEncoder) apiError(a *APIError) {
	e.int(`{"sequence":`, a.Sequence)
	e.time(`,"at":`, a.At)
	e.raw(`,"kind":`)
	e.str(a.Kind)
	e.optStr(`,"model":`, a.Model)
	e.optStr(`,"error":`, a.Error)
	e.optInt(`,"status_code":`, a.StatusCode)
	e.optInt(`,"duration_ms":`, a.DurationMS)
	e.optInt(`,"attempt":`, a.Attempt)
	e.optStr(`,"request_id":`, a.RequestID)
	e.optStr(`,"agent_id":`, a.AgentID)
	e.b = append(e.b, '}')
}

func (e *jsonEncoder) toolCall(t *ToolCall) {
	e.raw(`{"tool_use_id":`)
	e.str(t.ToolUseID)
	e.raw(`,"name":`)
	e.str(t.Name)
	e.optStr(`,"mcp_server":`, t.MCPServer)
	e.optStr(`,"mcp_tool":`, t.MCPTool)
	e.optStr(`,"decision":`, t.Decision)
	e.optStr(`,"decision_source":`, t.DecisionSource)
	e.bool(`,"has_result":`, t.HasResult)
	if t.Success != nil {
		e.bool(`,"success":`, *t.Success)
	}
	e.optInt(`,"duration_ms":`, t.DurationMS)
	e.optStr(`,"error_type":`, t.ErrorType)
	e.optStr(`,"error":`, t.Error)
	e.optStr(`,"command":`, t.Command)
	e.optStr(`,"skill":`, t.Skill)
	e.optStr(`,"subagent":`, t.Subagent)
	e.optStr(`,"agent_id":`, t.AgentID)
	e.time(`,"at":`, t.At)
	e.int(`,"decision_sequence":`, t.DecisionSequence)
	e.int(`,"result_sequence":`, t.ResultSequence)
	e.b = append(e.b, '}')
}

func (e *jsonEncoder) subagent(s *Subagent) {
	e.b = append(e.b, '{')
	n := len(e.b)
	e.optStr(`"agent_id":`, s.AgentID)
	if s.Type != "" {
		e.optStr(sep(len(e.b) > n, `,"type":`), s.Type)
	}
	if s.Async {
		e.bool(sep(len(e.b) > n, `,"async":`), true)
	}
	e.bool(sep(len(e.b) > n, `,"completed":`), s.Completed)
	e.optInt(`,"duration_ms":`, s.DurationMS)
	e.optInt(`,"total_tokens":`, s.TotalTokens)
	e.optInt(`,"total_tool_uses":`, s.TotalToolUses)
	e.optStr(`,"model":`, s.Model)
	e.b = append(e.b, '}')
}

func (e *jsonEncoder) fileTouch(f *FileTouch) {
	e.raw(`{"path":`)
	e.str(f.Path)
	e.raw(`,"operation":`)
	e.str(f.Operation)
	e.raw(`,"tool":`)
	e.str(f.Tool)
	e.optStr(`,"pattern":`, f.Pattern)
	e.optStr(`,"tool_use_id":`, f.ToolUseID)
	e.b = append(e.b, '}')
}

// htmlSafe reports the ASCII bytes that encoding/json writes as they are (with HTML escaping,
// its default): not a control character, ", \, <, > or &.
var htmlSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as a JSON string exactly as encoding/json does by default: ", \
// and \b \f \n \r \t by their short escapes, other control characters and <, >, & as \u00XX,
// U+2028 and U+2029 as \u2028 and \u2029, each invalid UTF-8 byte as \ufffd.
// ([jsonstr.Append] writes the JavaScript form instead: no HTML escapes, raw U+FFFD.)
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if i = skipHTMLSafe(s, i); i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if htmlSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// skipHTMLSafe returns i advanced eight bytes at a time for as long as all eight are
// [htmlSafe]; the bytes after it (at most seven short of the end) must be read one by one.
func skipHTMLSafe(s string, i int) int {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(s); i += 8 {
		w := binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:]), 8))
		q, bs, lt, gt, amp := w^(lo*'"'), w^(lo*'\\'), w^(lo*'<'), w^(lo*'>'), w^(lo*'&')
		// A zero byte in q, bs, lt, gt or amp, a byte under 0x20 or a high bit (not ASCII)
		// sets a high bit.
		if ((q-lo)&^q|(bs-lo)&^bs|(lt-lo)&^lt|(gt-lo)&^gt|(amp-lo)&^amp|(w-lo*0x20)&^w|w)&hi != 0 {
			break
		}
	}
	return i
}
