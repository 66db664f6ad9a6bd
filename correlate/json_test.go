package correlate

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/internal/corpus"
	"github.com/coworkgov/cowork/telemetry"
	"github.com/coworkgov/cowork/telemetry/telemetrytest"
)

// assertSameJSON checks that c.AppendJSON gives json.Marshal(c)'s bytes, or its error, both
// from nothing and appended to a prefix.
func assertSameJSON(t testing.TB, c *Chain, msgAndArgs ...any) bool {
	t.Helper()
	want, wantErr := json.Marshal(c)
	got, err := c.AppendJSON(nil)
	if wantErr != nil {
		return assert.EqualError(t, err, wantErr.Error(), msgAndArgs...)
	}
	if !assert.NoError(t, err, msgAndArgs...) || !assert.Equal(t, string(want), string(got), msgAndArgs...) {
		return false
	}
	// After a prefix, without room (pooled scratch, then one copy) and with room (in place).
	prefix := []byte("prefix,")
	got, err = c.AppendJSON(prefix[:len(prefix):len(prefix)])
	if !assert.NoError(t, err, msgAndArgs...) || !assert.Equal(t, "prefix,"+string(want), string(got), msgAndArgs...) {
		return false
	}
	hint := 0
	if c != nil {
		hint = c.jsonSizeHint()
	}
	room := len(prefix) + max(hint, len(want))
	got, err = c.AppendJSON(append(make([]byte, 0, room), prefix...))
	return assert.NoError(t, err, msgAndArgs...) && assert.Equal(t, "prefix,"+string(want), string(got), msgAndArgs...) &&
		assert.Equal(t, room, cap(got), msgAndArgs...) // written in place
}

func TestAppendJSONCorpus(t *testing.T) {
	n := 0
	for _, enc := range []corpus.Encoding{corpus.Protobuf, corpus.JSON} {
		for _, sc := range corpus.Scenarios() {
			t.Run("format="+string(enc)+"/scenario="+sc, func(t *testing.T) {
				for _, c := range Fold(corpusEventsOf(t, enc, sc)) {
					assertSameJSON(t, c, c.ID)
					n++
				}
			})
		}
	}
	// Every scenario at once, renamed apart so their sessions and prompts stay distinct.
	var all []telemetry.Event
	for i, sc := range corpus.Scenarios() {
		all = append(all, renamed(t, sc, fmt.Sprint("r", i))...)
	}
	for _, c := range Fold(all) {
		assertSameJSON(t, c, c.ID)
		n++
	}
	t.Logf("%d corpus chains", n)
}

// simChains folds simulated fleets: several seeds, every behaviour on, chaotic delivery.
func simChains(t testing.TB, seeds, users int) []*Chain {
	var out []*Chain
	for seed := range uint64(seeds) {
		o := telemetrytest.Realistic(seed + 1)
		o.Users, o.SessionsPerUser, o.PromptsPerSession = users, 2, 3
		o.SubagentRate, o.ErrorRate, o.RejectRate, o.ToolFailureRate = 0.3, 0.1, 0.15, 0.1
		o.Chaos = telemetrytest.Chaos{DuplicateRate: 0.05, ReorderRate: 0.1, LateRate: 0.05}
		var evs []telemetry.Event
		for s := range telemetrytest.NewFleet(o).Sessions() {
			evs = append(evs, s.Events...)
		}
		out = append(out, Fold(evs)...)
	}
	return out
}

func TestAppendJSONSimulator(t *testing.T) {
	seeds := 8
	if testing.Short() {
		seeds = 2
	}
	cs := simChains(t, seeds, 100)
	require.Greater(t, len(cs), 1000)
	fails := 0
	for _, c := range cs {
		if !assertSameJSON(t, c, c.ID) {
			if fails++; fails > 5 {
				t.Fatal("too many failures")
			}
		}
	}
	t.Logf("%d simulated chains", len(cs))
}

// TestAppendJSONAssembler compares the chains a streaming assembler emits (amended versions,
// every trigger) and their fold.
func TestAppendJSONAssembler(t *testing.T) {
	fl := simFleet(50, 2)
	clk := newFakeClock()
	col := &collector{}
	a, err := New(col, WithClock(clk), WithMaxChainEvents(12), WithMaxChains(20), WithRetainClosed(10))
	require.NoError(t, err)
	ctx := t.Context()
	for s := range fl.Sessions() {
		mid := len(s.Events) / 2
		require.NoError(t, a.Add(ctx, s.Events[:mid]...))
		clk.Advance(time.Hour)
		require.NoError(t, a.Sweep(ctx))
		require.NoError(t, a.Add(ctx, s.Events[mid:]...))
	}
	require.NoError(t, a.Close(ctx))
	col.mu.Lock()
	defer col.mu.Unlock()
	require.NotEmpty(t, col.chains)
	for _, c := range col.chains {
		assertSameJSON(t, c, c.ID)
	}
}

func TestAppendJSONEdgeCases(t *testing.T) {
	utc := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	nanos := time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC)
	zone := time.Date(2026, 3, 4, 5, 6, 7, 120000000, time.FixedZone("IST", 5*3600+30*60))
	west := time.Date(1999, 12, 31, 23, 59, 59, 1, time.FixedZone("", -(9*3600+45*60)))
	local := time.Date(2026, 7, 1, 12, 0, 0, 5000, time.Local)
	yes, no := true, false
	awkward := []string{
		"", "plain", `<script>alert("x&y")</script>`, "a<b>c&d", "\x00\x01\x08\x09\x0a\x0b\x0c\x0d\x1f\x7f",
		"line\u2028para\u2029end", "\u2027\u202a", "bad\xffutf8", "\xc3", "trunc\xe2\x80", "\xed\xa0\x80 surrogate",
		`quote"back\slash/`, "é日本語🙂", strings.Repeat("abcdefgh", 9) + "<", strings.Repeat("x", 7) + "&" + strings.Repeat("y", 20),
		strings.Repeat("\u2028", 5), "\U0010FFFF\xf4\x90\x80\x80",
	}
	floats := []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 0.1 + 0.2, 1e-6, 9.999999e-7, 1e-7, -1e-7, 1e-20, 5e-324,
		1e20, 1e21, -1e21, 123456789012345678901234.0, math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64,
		1 << 53, 1<<53 + 1, 12.5, 0.000123}
	ints := []int64{0, 1, -1, math.MaxInt64, math.MinInt64, 1 << 53, -(1 << 53)}

	full := func() *Chain {
		return &Chain{
			ID: "id", SessionID: "s", PromptID: "p", ParentPromptID: "parent", Product: "cowork",
			User:      User{AccountUUID: "u", AccountID: "user_01", Email: "a@b.c", UserID: "h", OrganizationID: "o"},
			StartedAt: utc, EndedAt: nanos,
			Prompt:     &Prompt{Text: "hi", Length: 2, Command: "/x", TaskNotification: true, At: zone},
			Totals:     Totals{CostUSD: 0.25, CostUSDMicros: 250000, InputTokens: 1, OutputTokens: 2, CacheReadTokens: 3, CacheCreationTokens: 4, APIRequests: 5, APIErrors: 6, ToolCalls: 7, Rejected: 8, Failed: 9, DurationMS: 10},
			APICalls:   []APICall{{Sequence: 1, At: utc, Model: "m", CostUSD: 1e-7}, {Sequence: -1}},
			APIErrors:  []APIError{{Kind: "api_error", StatusCode: 529, Attempt: 2}, {Kind: ""}},
			Tools:      []ToolCall{{ToolUseID: "t", Name: "Bash", Success: &yes, HasResult: true, DecisionSequence: -1, ResultSequence: -1}, {Success: &no}, {}},
			MCPServers: []string{"a", "b"}, Skills: []string{}, Plugins: nil,
			Subagents: []Subagent{{}, {Async: true}, {Type: "t", Completed: true}, {AgentID: "a", DurationMS: 3, Model: "m"}},
			Files:     []FileTouch{{}, {Path: "/p", Operation: "read", Tool: "Read", Pattern: "*.go", ToolUseID: "t"}},
			Response:  &Response{Text: "ok", Length: 2, Model: "m", At: west},
			Complete:  true, Reasons: []Reason{ReasonNoPrompt, ReasonPartial}, ClosedBy: TriggerFlush, Version: 3, EventCount: 42,
		}
	}

	cases := map[string]*Chain{
		"nil":  nil,
		"zero": {},
		"empty lists": {APICalls: []APICall{}, APIErrors: []APIError{}, Tools: []ToolCall{}, MCPServers: []string{}, Skills: []string{},
			Plugins: []string{}, Subagents: []Subagent{}, Files: []FileTouch{}, Reasons: []Reason{}},
		"zero elements": {APICalls: make([]APICall, 2), APIErrors: make([]APIError, 2), Tools: make([]ToolCall, 2), MCPServers: make([]string, 2),
			Subagents: make([]Subagent, 2), Files: make([]FileTouch, 2)},
		"zero prompt and response": {Prompt: &Prompt{}, Response: &Response{}},
		"prompt length only":       {Prompt: &Prompt{Length: 7}, Response: &Response{Model: "m"}},
		"prompt command only":      {Prompt: &Prompt{Command: "c"}, Response: &Response{Length: -3}},
		"prompt notification only": {Prompt: &Prompt{TaskNotification: true}},
		"full":                     full(),
		"events are not encoded":   {Events: []telemetry.Event{&telemetry.UserPrompt{}}},
		"local time":               {StartedAt: local, EndedAt: time.Now()},
		"year 0 and 9999":          {StartedAt: time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), EndedAt: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)},
		"zone 23:59":               {StartedAt: time.Date(2020, 1, 1, 0, 0, 0, 0, time.FixedZone("", 23*3600+59*60))},
		"zone with seconds":        {StartedAt: time.Date(1900, 1, 1, 0, 0, 0, 0, time.FixedZone("LMT", 3600+15*60+30))},
		// Longer than the size hint and than the pooled scratch kept.
		"long escapes": {Prompt: &Prompt{Text: strings.Repeat("<\x01\u2028", 30_000)}, Tools: []ToolCall{{Command: strings.Repeat("&", 70_000)}}},
	}
	for i, s := range awkward {
		c := full()
		c.ID, c.User.Email, c.Prompt.Text, c.Response.Text, c.Tools[0].Command, c.Files[1].Path, c.MCPServers[0] = s, s, s, s, s, s, s
		c.APIErrors[0].Error, c.Subagents[3].Model, c.Product = s, s, s
		cases[fmt.Sprintf("string %d %q", i, s)] = c
	}
	for _, f := range floats {
		c := full()
		c.Totals.CostUSD, c.APICalls[1].CostUSD = f, -f
		cases[fmt.Sprintf("float %v", f)] = c
	}
	for _, n := range ints {
		c := full()
		c.Version, c.EventCount, c.Totals.InputTokens, c.APICalls[0].Attempt, c.Tools[1].DurationMS = int(n), int(-n), n, n, n
		c.Prompt.Length, c.Subagents[0].TotalTokens, c.APIErrors[1].StatusCode, c.Tools[2].ResultSequence = n, n, n, n
		cases[fmt.Sprintf("int %d", n)] = c
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) { assertSameJSON(t, c) })
	}
}

// TestAppendJSONFailures: where json.Marshal fails, AppendJSON gives its error and leaves b.
func TestAppendJSONFailures(t *testing.T) {
	cases := map[string]func(*Chain){
		"NaN cost":          func(c *Chain) { c.Totals.CostUSD = math.NaN() },
		"+Inf call cost":    func(c *Chain) { c.APICalls = []APICall{{CostUSD: math.Inf(1)}} },
		"-Inf cost":         func(c *Chain) { c.Totals.CostUSD = math.Inf(-1) },
		"year 10000":        func(c *Chain) { c.EndedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"year -1":           func(c *Chain) { c.StartedAt = time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC) },
		"zone 24h":          func(c *Chain) { c.StartedAt = time.Date(2020, 1, 1, 0, 0, 0, 0, time.FixedZone("", 24*3600)) },
		"tool time":         func(c *Chain) { c.Tools = []ToolCall{{At: time.Date(12345, 1, 1, 0, 0, 0, 0, time.UTC)}} },
		"prompt time":       func(c *Chain) { c.Prompt = &Prompt{At: time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC)} },
		"reason unknown":    func(c *Chain) { c.Reasons = []Reason{ReasonNoTerminal, ReasonUnknown} },
		"reason out of set": func(c *Chain) { c.Reasons = []Reason{numReasons} },
	}
	for name, mod := range cases {
		t.Run(name, func(t *testing.T) {
			c := &Chain{ID: "x"}
			mod(c)
			_, wantErr := json.Marshal(c)
			require.Error(t, wantErr)
			for _, b := range [][]byte{[]byte("keep"), append(make([]byte, 0, 1<<16), "keep"...)} {
				got, err := c.AppendJSON(b)
				assert.EqualError(t, err, wantErr.Error())
				assert.Equal(t, "keep", string(got))
			}
		})
	}
}

// TestAppendJSONEnums encodes every uint8 value of Reason and Trigger, so that a change to
// their MarshalText shows here.
func TestAppendJSONEnums(t *testing.T) {
	for v := range 256 {
		assertSameJSON(t, &Chain{Reasons: []Reason{Reason(v)}}, "reason %d", v)
		assertSameJSON(t, &Chain{ClosedBy: Trigger(v)}, "trigger %d", v)
	}
}

// populate gives every field reachable from v, recursively, a value that is not zero, except
// the leaf numbered skip (counted in field order from 0 through *n), which stays zero. Slices
// get two elements, pointers a value, strings a value with characters to escape.
func populate(t testing.TB, v reflect.Value, skip int, n *int) {
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			break
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				populate(t, v.Field(i), skip, n)
			}
		}
		return
	case reflect.Pointer:
		if *n == skip { // a nil pointer is this leaf's zero
			*n++
			return
		}
		*n++
		v.Set(reflect.New(v.Type().Elem()))
		populate(t, v.Elem(), skip, n)
		return
	case reflect.Slice:
		if *n == skip {
			*n++
			return
		}
		*n++
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			populate(t, v.Index(i), skip, n)
		}
		return
	case reflect.Map:
		if *n == skip {
			*n++
			return
		}
		*n++
		v.Set(reflect.MakeMap(v.Type()))
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		populate(t, k, -1, n)
		populate(t, e, -1, n)
		v.SetMapIndex(k, e)
		return
	case reflect.Interface:
		return // Chain.Events: json:"-", and nothing else is an interface
	}
	leaf := *n
	*n++
	if leaf == skip {
		return
	}
	switch v.Kind() {
	case reflect.Struct: // time.Time
		v.Set(reflect.ValueOf(time.Date(2026, 1, 2, 3, 4, 5, leaf*1000, time.FixedZone("", leaf%7*3600))))
	case reflect.String:
		v.SetString(fmt.Sprintf("v%d<&>\u2028\"", leaf))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(leaf+1) * -7)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		// Reason and Trigger: a valid value (Reason has no valid value past numReasons-1).
		v.SetUint(uint64(leaf%int(numTriggers-1)) + 1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(leaf) + 0.125)
	default:
		t.Fatalf("populate: no value for %s", v.Type())
	}
}

// TestAppendJSONEveryField fills every field of a Chain, recursively, and compares with
// json.Marshal; then once more for each field left at its zero value. A field added to Chain
// (or to what it holds) and not to the encoder fails here.
func TestAppendJSONEveryField(t *testing.T) {
	var n int
	full := &Chain{}
	populate(t, reflect.ValueOf(full).Elem(), -1, &n)
	require.True(t, assertSameJSON(t, full))
	// Every json field name of the types reachable from Chain appears in the output.
	js, err := full.AppendJSON(nil)
	require.NoError(t, err)
	for _, name := range jsonNames(reflect.TypeFor[Chain]()) {
		assert.Contains(t, string(js), `"`+name+`":`)
	}
	for skip := range n {
		c := &Chain{}
		var m int
		populate(t, reflect.ValueOf(c).Elem(), skip, &m)
		assertSameJSON(t, c, "leaf %d zero", skip)
	}
	t.Logf("%d leaves", n)
}

func jsonNames(t reflect.Type) []string {
	var out []string
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == reflect.TypeFor[time.Time]() {
		return nil
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
		out = append(out, jsonNames(f.Type)...)
	}
	return out
}

// TestAppendJSONTimes compares the UTC fast path (and the other zones) with MarshalJSON over
// the edges of the RFC 3339 range, leap days and a sweep of pseudo-random instants.
func TestAppendJSONTimes(t *testing.T) {
	times := []time.Time{
		{}, time.Unix(0, 0), time.Unix(-1, 0), time.Unix(-1, 999999999), time.Unix(0, 1),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(0, 2, 29, 12, 0, 0, 0, time.UTC), time.Date(0, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1900, 2, 28, 0, 0, 0, 0, time.UTC), time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2000, 2, 29, 23, 59, 59, 100000000, time.UTC), time.Date(2100, 3, 1, 0, 0, 0, 10, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(2400, 12, 31, 0, 0, 0, 0, time.UTC),
		time.Date(-400, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(20000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Unix(math.MaxInt64/2, 0), time.Unix(math.MinInt64/2, 0), time.Unix(0, math.MaxInt64), time.Unix(0, math.MinInt64),
	}
	// A linear congruential sweep over years 0–9999 and beyond at every precision.
	x := uint64(1)
	for i := range 8000 {
		x = x*6364136223846793005 + 1442695040888963407
		sec := int64(x>>1)%(maxRFC3339-minRFC3339+2*86400*366) + minRFC3339 - 86400*366
		ns := int(x>>20) % 1_000_000_000
		switch i % 4 {
		case 0:
			ns = 0
		case 1:
			ns -= ns % 1_000_000
		case 2:
			ns -= ns % 1000
		}
		times = append(times, time.Unix(sec, int64(ns)))
	}
	zones := []*time.Location{time.UTC, time.FixedZone("", 0), time.FixedZone("", -3*3600-30*60), time.Local}
	for i, at := range times {
		for _, loc := range zones {
			tt := at.In(loc)
			if loc == time.UTC {
				tt = at.UTC()
			}
			if !assertSameJSON(t, &Chain{StartedAt: tt, Tools: []ToolCall{{At: tt}}}, "time %d %v", i, tt) {
				return
			}
		}
	}
}

// FuzzChainAppendJSON builds a chain from fuzzed strings and numbers and compares AppendJSON
// with json.Marshal.
func FuzzChainAppendJSON(f *testing.F) {
	f.Add("id", "<b>&amp;</b>", "line\u2028sep", int64(0), int64(-1), 0.5, int64(1700000000123456789), 0, uint8(1), uint8(2))
	f.Add("", "", "", int64(math.MaxInt64), int64(math.MinInt64), 1e21, int64(0), -19800, uint8(0), uint8(7))
	f.Add("\xff\xfe", "\x00\x1f", `"\`, int64(3), int64(4), 1e-7, int64(-62135596800000000), 3600, uint8(9), uint8(200))
	f.Fuzz(func(t *testing.T, s1, s2, s3 string, i1, i2 int64, fl float64, unixNano int64, offset int, reason, trigger uint8) {
		at := time.Unix(0, unixNano).UTC() // the usual case, and the encoder's fast path
		if offset%4 != 0 {
			at = at.In(time.FixedZone(s3, offset%(26*3600)))
		}
		b := i1%2 == 0
		c := &Chain{
			ID: s1, SessionID: s2, PromptID: s3, ParentPromptID: s2 + s1, Product: s3,
			User:      User{AccountUUID: s1, Email: s2, OrganizationID: s3},
			StartedAt: at, EndedAt: at.Add(time.Duration(i2)),
			Totals:    Totals{CostUSD: fl, CostUSDMicros: i1, InputTokens: i2, APIRequests: int(i1), DurationMS: i2},
			APICalls:  []APICall{{Sequence: i1, At: at, Model: s1, CostUSD: -fl, Attempt: i2, MCPTool: s3}},
			APIErrors: []APIError{{Kind: s2, Error: s3, StatusCode: i1}},
			Tools:     []ToolCall{{ToolUseID: s1, Name: s2, Command: s3, Success: &b, DurationMS: i2, At: at}},
			Skills:    []string{s1, s2, s3}, Plugins: []string{},
			Subagents: []Subagent{{AgentID: s1, Async: b, TotalTokens: i1}, {Type: s2}},
			Files:     []FileTouch{{Path: s3, Pattern: s1}},
			Complete:  b, Reasons: []Reason{Reason(reason)}, ClosedBy: Trigger(trigger),
			Version: int(i1), EventCount: int(i2),
		}
		if i1%3 == 0 {
			c.Prompt = &Prompt{Text: s2, Length: i1, Command: s1, TaskNotification: b, At: at}
		}
		if i2%3 == 0 {
			c.Response = &Response{Text: s3, Model: s1, At: at}
		}
		assertSameJSON(t, c)
	})
}
