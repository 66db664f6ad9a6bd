package correlate

import (
	"encoding/json"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/coworkgov/cowork/internal/jsonstr"
)

// AppendJSON appends c's JSON to b and returns the extended slice. The bytes are exactly
// those of json.Marshal(c): the same fields in the same order, omitempty, null for a nil
// list and [] for an empty one, times as [time.Time.MarshalJSON] writes them, floats and
// strings as encoding/json writes them (HTML characters, U+2028 and U+2029 escaped, invalid
// UTF-8 as \ufffd). It is written field by field, without reflection. When b has too little
// room, the JSON is built in pooled scratch and b grows once, to its size class (as
// json.Marshal's result does), so AppendJSON(nil) returns a slice of its own.
//
// Where json.Marshal fails (a NaN or infinite cost, a time outside years 0–9999 or with a zone
// offset of 24 hours or more, a Reason that [Reason.MarshalText] refuses) AppendJSON returns
// json.Marshal's error and b at its original length. A nil c appends null. Like json.Marshal,
// it only reads c.
func (c *Chain) AppendJSON(b []byte) ([]byte, error) {
	if c == nil {
		return append(b, "null"...), nil
	}
	need := c.jsonSizeHint()
	if cap(b)-len(b) >= need {
		e := jsonEncoder{b: b}
		e.chain(c)
		if !e.failed {
			return e.b, nil
		}
		return c.marshalFallback(b)
	}
	sp := jsonScratch.Get().(*[]byte)
	e := jsonEncoder{b: (*sp)[:0]}
	if cap(e.b) < need {
		e.b = make([]byte, 0, need)
	}
	e.chain(c)
	if !e.failed {
		b = append(b, e.b...)
	}
	if cap(e.b) <= maxJSONScratch {
		*sp = e.b[:0]
		jsonScratch.Put(sp)
	}
	if e.failed {
		return c.marshalFallback(b)
	}
	return b, nil
}

// marshalFallback is the rare path: encoding/json names the problem (and, should it accept
// what AppendJSON refused, its bytes are the answer).
func (c *Chain) marshalFallback(b []byte) ([]byte, error) {
	js, err := json.Marshal(c)
	if err != nil {
		return b, err
	}
	return append(b, js...), nil
}

// jsonScratch holds AppendJSON's scratch buffers, up to maxJSONScratch bytes each.
var jsonScratch = sync.Pool{New: func() any { return new([]byte) }}

const maxJSONScratch = 1 << 16

// jsonSizeHint estimates the length of c's JSON, a little over for the usual chain, so that
// it is written without growing the buffer.
func (c *Chain) jsonSizeHint() int {
	n := 760 + len(c.ParentPromptID) + len(c.Product) +
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

// jsonEncoder appends a chain's JSON to b; failed records a value that json.Marshal refuses.
// Each struct's fields are appended to a local slice, written back once, so that the hot path
// has no pointer writes through e (and no write barriers while the GC marks).
type jsonEncoder struct {
	b      []byte
	failed bool
}

// The jsX helpers write ,"key":value, key holding its quotes, colon and leading comma
// (or opening brace); the jsOptX ones write nothing for a zero value (omitempty).

func jsStr(b []byte, key, s string) []byte {
	return jsonstr.AppendHTMLSafe(append(b, key...), s)
}

func jsOptStr(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return jsonstr.AppendHTMLSafe(append(b, key...), s)
}

func jsInt(b []byte, key string, v int64) []byte {
	return strconv.AppendInt(append(b, key...), v, 10)
}

func jsOptInt(b []byte, key string, v int64) []byte {
	if v == 0 {
		return b
	}
	return strconv.AppendInt(append(b, key...), v, 10)
}

func jsBool(b []byte, key string, v bool) []byte {
	return strconv.AppendBool(append(b, key...), v)
}

// jsFloat writes f as encoding/json's floatEncoder does for a float64: like strconv 'f',
// but 'e' below 1e-6 and from 1e21, with the exponent's leading zero dropped (1e-07 → 1e-7).
// It reports false for NaN and ±Inf, which json.Marshal refuses.
func jsFloat(b []byte, key string, f float64) ([]byte, bool) {
	b = append(b, key...)
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return append(b, '0'), false
	}
	fmt := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		fmt = 'e'
	}
	b = strconv.AppendFloat(b, f, fmt, -1, 64)
	if fmt == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

// jsTime writes t as [time.Time.MarshalJSON] does: RFC 3339 with nanoseconds, quoted. It
// reports false where MarshalJSON fails (a year outside 0–9999, a zone offset of 24 hours or
// more).
func jsTime(b []byte, key string, t time.Time) ([]byte, bool) {
	b = append(b, key...)
	if t.Location() == time.UTC {
		if sec := t.Unix(); minRFC3339 <= sec && sec <= maxRFC3339 {
			return jsUTC(b, sec, t.Nanosecond()), true
		}
	}
	// Other zones and the years MarshalJSON refuses: [time.Time.AppendText] writes the same
	// text as MarshalJSON, without allocating.
	b = append(b, '"')
	ok := true
	if tb, err := t.AppendText(b); err != nil {
		ok = false
	} else {
		b = tb
	}
	return append(b, '"'), ok
}

// The Unix times of 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z, the range of RFC 3339.
const minRFC3339, maxRFC3339 = -62167219200, 253402300799

const jsonDigits2 = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// jsUTC writes the UTC time sec (Unix seconds, in [minRFC3339, maxRFC3339]) and ns as
// time.RFC3339Nano, quoted: 2006-01-02T15:04:05.999999999Z, the fraction without its trailing
// zeros and without its point when zero.
func jsUTC(b []byte, sec int64, ns int) []byte {
	days, rem := sec/86400, sec%86400
	if rem < 0 {
		days, rem = days-1, rem+86400
	}
	// Civil date from days since 1970-01-01 (H. Hinnant's civil_from_days), in eras of 400
	// years counted from -0400-03-01, so that z ≥ 0 over the whole range.
	z := days + 719468 + 146097
	era := z / 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	day := doy - (153*mp+2)/5 + 1
	month := mp + 3
	year := yoe + era*400 - 400
	if mp >= 10 {
		month -= 12
		year++
	}
	hour, minute, second := rem/3600, rem/60%60, rem%60
	b = append(b, '"',
		jsonDigits2[2*(year/100)], jsonDigits2[2*(year/100)+1], jsonDigits2[2*(year%100)], jsonDigits2[2*(year%100)+1], '-',
		jsonDigits2[2*month], jsonDigits2[2*month+1], '-', jsonDigits2[2*day], jsonDigits2[2*day+1], 'T',
		jsonDigits2[2*hour], jsonDigits2[2*hour+1], ':', jsonDigits2[2*minute], jsonDigits2[2*minute+1], ':',
		jsonDigits2[2*second], jsonDigits2[2*second+1])
	if ns != 0 {
		var frac [10]byte
		frac[0] = '.'
		for i, n := 9, ns; i > 0; i-- {
			frac[i] = byte('0' + n%10)
			n /= 10
		}
		n := 10
		for frac[n-1] == '0' {
			n--
		}
		b = append(b, frac[:n]...)
	}
	return append(b, 'Z', '"')
}

func jsStrings(b []byte, key string, ss []string) []byte {
	b = append(b, key...)
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonstr.AppendHTMLSafe(b, s)
	}
	return append(b, ']')
}

// jsSep returns key (,"name":) with its leading comma, or without it for an object's first field.
func jsSep(after bool, key string) string {
	if after {
		return key
	}
	return key[1:]
}

func (e *jsonEncoder) time(b []byte, key string, t time.Time) []byte {
	b, ok := jsTime(b, key, t)
	if !ok {
		e.failed = true
	}
	return b
}

func (e *jsonEncoder) float(b []byte, key string, f float64) []byte {
	b, ok := jsFloat(b, key, f)
	if !ok {
		e.failed = true
	}
	return b
}

func (e *jsonEncoder) chain(c *Chain) {
	b := e.b
	b = jsStr(b, `{"id":`, c.ID)
	b = jsStr(b, `,"session_id":`, c.SessionID)
	b = jsStr(b, `,"prompt_id":`, c.PromptID)
	b = jsOptStr(b, `,"parent_prompt_id":`, c.ParentPromptID)
	b = jsUser(append(b, `,"user":`...), &c.User)
	b = jsOptStr(b, `,"product":`, c.Product)
	b = e.time(b, `,"started_at":`, c.StartedAt)
	b = e.time(b, `,"ended_at":`, c.EndedAt)
	if c.Prompt != nil {
		b = e.prompt(b, c.Prompt)
	}
	b = e.totals(append(b, `,"totals":`...), &c.Totals)

	b = append(b, `,"api_calls":`...)
	if c.APICalls == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range c.APICalls {
			if i > 0 {
				b = append(b, ',')
			}
			b = e.apiCall(b, &c.APICalls[i])
		}
		b = append(b, ']')
	}

	b = append(b, `,"api_errors":`...)
	if c.APIErrors == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range c.APIErrors {
			if i > 0 {
				b = append(b, ',')
			}
			b = e.apiError(b, &c.APIErrors[i])
		}
		b = append(b, ']')
	}

	b = append(b, `,"tools":`...)
	if c.Tools == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range c.Tools {
			if i > 0 {
				b = append(b, ',')
			}
			b = e.toolCall(b, &c.Tools[i])
		}
		b = append(b, ']')
	}

	b = jsStrings(b, `,"mcp_servers":`, c.MCPServers)
	b = jsStrings(b, `,"skills":`, c.Skills)
	b = jsStrings(b, `,"plugins":`, c.Plugins)

	b = append(b, `,"subagents":`...)
	if c.Subagents == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range c.Subagents {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsSubagent(b, &c.Subagents[i])
		}
		b = append(b, ']')
	}

	b = append(b, `,"files":`...)
	if c.Files == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range c.Files {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsFileTouch(b, &c.Files[i])
		}
		b = append(b, ']')
	}

	if c.Response != nil {
		b = e.response(b, c.Response)
	}
	b = jsBool(b, `,"complete":`, c.Complete)

	b = append(b, `,"reasons":`...)
	if c.Reasons == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, r := range c.Reasons {
			if i > 0 {
				b = append(b, ',')
			}
			// Reason.MarshalText: its name, or an error for ReasonUnknown and unknown values.
			if r == ReasonUnknown || r >= numReasons {
				e.failed = true
			}
			b = jsonstr.AppendHTMLSafe(b, r.String())
		}
		b = append(b, ']')
	}

	// Trigger.MarshalText: its name, "" for TriggerUnknown and unknown values.
	b = jsStr(b, `,"closed_by":`, c.ClosedBy.String())
	b = jsInt(b, `,"version":`, int64(c.Version))
	b = jsInt(b, `,"event_count":`, int64(c.EventCount))
	// Events is json:"-".
	e.b = append(b, '}')
}

func jsUser(b []byte, u *User) []byte {
	b = append(b, '{')
	n := len(b)
	b = jsOptStr(b, `"account_uuid":`, u.AccountUUID)
	if u.AccountID != "" {
		b = jsStr(b, jsSep(len(b) > n, `,"account_id":`), u.AccountID)
	}
	if u.Email != "" {
		b = jsStr(b, jsSep(len(b) > n, `,"email":`), u.Email)
	}
	if u.UserID != "" {
		b = jsStr(b, jsSep(len(b) > n, `,"user_id":`), u.UserID)
	}
	if u.OrganizationID != "" {
		b = jsStr(b, jsSep(len(b) > n, `,"organization_id":`), u.OrganizationID)
	}
	return append(b, '}')
}

func (e *jsonEncoder) prompt(b []byte, p *Prompt) []byte {
	b = append(b, `,"prompt":{`...)
	n := len(b)
	b = jsOptStr(b, `"text":`, p.Text)
	if p.Length != 0 {
		b = jsInt(b, jsSep(len(b) > n, `,"length":`), p.Length)
	}
	if p.Command != "" {
		b = jsStr(b, jsSep(len(b) > n, `,"command":`), p.Command)
	}
	if p.TaskNotification {
		b = jsBool(b, jsSep(len(b) > n, `,"task_notification":`), true)
	}
	b = e.time(b, jsSep(len(b) > n, `,"at":`), p.At)
	return append(b, '}')
}

func (e *jsonEncoder) response(b []byte, r *Response) []byte {
	b = append(b, `,"response":{`...)
	n := len(b)
	b = jsOptStr(b, `"text":`, r.Text)
	if r.Length != 0 {
		b = jsInt(b, jsSep(len(b) > n, `,"length":`), r.Length)
	}
	if r.Model != "" {
		b = jsStr(b, jsSep(len(b) > n, `,"model":`), r.Model)
	}
	b = e.time(b, jsSep(len(b) > n, `,"at":`), r.At)
	return append(b, '}')
}

func (e *jsonEncoder) totals(b []byte, t *Totals) []byte {
	b = e.float(b, `{"cost_usd":`, t.CostUSD)
	b = jsInt(b, `,"cost_usd_micros":`, t.CostUSDMicros)
	b = jsInt(b, `,"input_tokens":`, t.InputTokens)
	b = jsInt(b, `,"output_tokens":`, t.OutputTokens)
	b = jsInt(b, `,"cache_read_tokens":`, t.CacheReadTokens)
	b = jsInt(b, `,"cache_creation_tokens":`, t.CacheCreationTokens)
	b = jsInt(b, `,"api_requests":`, int64(t.APIRequests))
	b = jsInt(b, `,"api_errors":`, int64(t.APIErrors))
	b = jsInt(b, `,"tool_calls":`, int64(t.ToolCalls))
	b = jsInt(b, `,"rejected":`, int64(t.Rejected))
	b = jsInt(b, `,"failed":`, int64(t.Failed))
	b = jsInt(b, `,"duration_ms":`, t.DurationMS)
	return append(b, '}')
}

func (e *jsonEncoder) apiCall(b []byte, a *APICall) []byte {
	b = jsInt(b, `{"sequence":`, a.Sequence)
	b = e.time(b, `,"at":`, a.At)
	b = jsOptStr(b, `,"model":`, a.Model)
	b = jsOptStr(b, `,"request_id":`, a.RequestID)
	b = jsInt(b, `,"input_tokens":`, a.InputTokens)
	b = jsInt(b, `,"output_tokens":`, a.OutputTokens)
	b = jsInt(b, `,"cache_read_tokens":`, a.CacheReadTokens)
	b = jsInt(b, `,"cache_creation_tokens":`, a.CacheCreationTokens)
	b = e.float(b, `,"cost_usd":`, a.CostUSD)
	b = jsInt(b, `,"cost_usd_micros":`, a.CostUSDMicros)
	b = jsInt(b, `,"duration_ms":`, a.DurationMS)
	b = jsInt(b, `,"ttft_ms":`, a.TTFTMS)
	b = jsOptInt(b, `,"attempt":`, a.Attempt)
	b = jsOptStr(b, `,"query_source":`, a.QuerySource)
	b = jsOptStr(b, `,"agent_id":`, a.AgentID)
	b = jsOptStr(b, `,"skill":`, a.Skill)
	b = jsOptStr(b, `,"plugin":`, a.Plugin)
	b = jsOptStr(b, `,"mcp_server":`, a.MCPServer)
	b = jsOptStr(b, `,"mcp_tool":`, a.MCPTool)
	return append(b, '}')
}

func (e *jsonEncoder) apiError(b []byte, a *APIError) []byte {
	b = jsInt(b, `{"sequence":`, a.Sequence)
	b = e.time(b, `,"at":`, a.At)
	b = jsStr(b, `,"kind":`, a.Kind)
	b = jsOptStr(b, `,"model":`, a.Model)
	b = jsOptStr(b, `,"error":`, a.Error)
	b = jsOptInt(b, `,"status_code":`, a.StatusCode)
	b = jsOptInt(b, `,"duration_ms":`, a.DurationMS)
	b = jsOptInt(b, `,"attempt":`, a.Attempt)
	b = jsOptStr(b, `,"request_id":`, a.RequestID)
	b = jsOptStr(b, `,"agent_id":`, a.AgentID)
	return append(b, '}')
}

func (e *jsonEncoder) toolCall(b []byte, t *ToolCall) []byte {
	b = jsStr(b, `{"tool_use_id":`, t.ToolUseID)
	b = jsStr(b, `,"name":`, t.Name)
	b = jsOptStr(b, `,"mcp_server":`, t.MCPServer)
	b = jsOptStr(b, `,"mcp_tool":`, t.MCPTool)
	b = jsOptStr(b, `,"decision":`, t.Decision)
	b = jsOptStr(b, `,"decision_source":`, t.DecisionSource)
	b = jsBool(b, `,"has_result":`, t.HasResult)
	if t.Success != nil {
		b = jsBool(b, `,"success":`, *t.Success)
	}
	b = jsOptInt(b, `,"duration_ms":`, t.DurationMS)
	b = jsOptStr(b, `,"error_type":`, t.ErrorType)
	b = jsOptStr(b, `,"error":`, t.Error)
	b = jsOptStr(b, `,"command":`, t.Command)
	b = jsOptStr(b, `,"skill":`, t.Skill)
	b = jsOptStr(b, `,"subagent":`, t.Subagent)
	b = jsOptStr(b, `,"agent_id":`, t.AgentID)
	b = e.time(b, `,"at":`, t.At)
	b = jsInt(b, `,"decision_sequence":`, t.DecisionSequence)
	b = jsInt(b, `,"result_sequence":`, t.ResultSequence)
	return append(b, '}')
}

func jsSubagent(b []byte, s *Subagent) []byte {
	b = append(b, '{')
	n := len(b)
	b = jsOptStr(b, `"agent_id":`, s.AgentID)
	if s.Type != "" {
		b = jsStr(b, jsSep(len(b) > n, `,"type":`), s.Type)
	}
	if s.Async {
		b = jsBool(b, jsSep(len(b) > n, `,"async":`), true)
	}
	b = jsBool(b, jsSep(len(b) > n, `,"completed":`), s.Completed)
	b = jsOptInt(b, `,"duration_ms":`, s.DurationMS)
	b = jsOptInt(b, `,"total_tokens":`, s.TotalTokens)
	b = jsOptInt(b, `,"total_tool_uses":`, s.TotalToolUses)
	b = jsOptStr(b, `,"model":`, s.Model)
	return append(b, '}')
}

func jsFileTouch(b []byte, f *FileTouch) []byte {
	b = jsStr(b, `{"path":`, f.Path)
	b = jsStr(b, `,"operation":`, f.Operation)
	b = jsStr(b, `,"tool":`, f.Tool)
	b = jsOptStr(b, `,"pattern":`, f.Pattern)
	b = jsOptStr(b, `,"tool_use_id":`, f.ToolUseID)
	return append(b, '}')
}
