package redact

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/correlate"
	"github.com/coworkgov/cowork/internal/corpus"
	"github.com/coworkgov/cowork/telemetry"
	"github.com/coworkgov/cowork/telemetry/telemetrytest"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

func newEngine(t testing.TB, p Policy, opts ...Option) *Engine {
	t.Helper()
	e, err := New(p, append([]Option{WithKey("k1", testKey)}, opts...)...)
	require.NoError(t, err)
	return e
}

func decodeScenario(t testing.TB, scenario string) []*telemetry.Logs {
	t.Helper()
	var out []*telemetry.Logs
	for _, f := range corpus.Logs(corpus.Protobuf, scenario) {
		l, err := telemetry.DecodeLogsProto(f.Data)
		require.NoError(t, err, f.Path())
		out = append(out, l)
	}
	return out
}

func encodeAll(t testing.TB, ls []*telemetry.Logs) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, l := range ls {
		j, err := telemetry.EncodeLogsJSON(l)
		require.NoError(t, err)
		b.Write(j)
		p, err := telemetry.EncodeLogsProto(l)
		require.NoError(t, err)
		b.Write(p)
	}
	return b.Bytes()
}

type chainShape struct {
	ID, Session, Prompt string
	Tools               []string
	APICalls, Events    int
	Complete            bool
}

func shapes(ls []*telemetry.Logs) []chainShape {
	var out []chainShape
	for _, c := range correlate.FoldLogs(ls...) {
		s := chainShape{ID: c.ID, Session: c.SessionID, Prompt: c.PromptID, APICalls: len(c.APICalls), Events: c.EventCount, Complete: c.Complete}
		for _, tc := range c.Tools {
			s.Tools = append(s.Tools, tc.ToolUseID)
		}
		out = append(out, s)
	}
	return out
}

// TestStrictRealCorpus runs the recorded CLI exports through Strict: no e-mail address, card
// number or home-directory user name survives anywhere in the JSON or protobuf encoding, and
// the chains rebuilt from the redacted events match the chains of the originals.
func TestStrictRealCorpus(t *testing.T) {
	e := newEngine(t, Strict)
	for _, sc := range corpus.Scenarios() {
		t.Run("scenario="+sc, func(t *testing.T) {
			before := shapes(decodeScenario(t, sc))
			ls := decodeScenario(t, sc)
			raw := encodeAll(t, ls)
			require.Contains(t, string(raw), "@acme.example", "the corpus has e-mail addresses to redact")
			var total Report
			for _, l := range ls {
				total.Add(e.Logs(l))
			}
			assert.Zero(t, total.Failed)
			out := string(encodeAll(t, ls))
			for _, banned := range []string{"@acme.example", "@globex.example", "4111 1111 1111 1111", "4111111111111111",
				"jane.doe", "sam.lee", "priya.n"} {
				assertNoLeak(t, out, banned)
			}
			// Re-decode what would be stored and rebuild the chains from it.
			var stored []*telemetry.Logs
			for _, l := range ls {
				p, err := telemetry.EncodeLogsProto(l)
				require.NoError(t, err)
				d, err := telemetry.DecodeLogsProto(p)
				require.NoError(t, err)
				stored = append(stored, d)
			}
			assert.Equal(t, before, shapes(stored))
			assert.NotEmpty(t, before)
		})
	}
}

// assertNoLeak fails with a short context when banned occurs in out.
func assertNoLeak(t *testing.T, out, banned string) {
	t.Helper()
	if k := strings.Index(out, banned); k >= 0 {
		t.Errorf("%q survived: …%q…", banned, out[max(0, k-80):min(len(out), k+len(banned)+40)])
	}
}

// TestProtectedIDsIntact checks every correlation id of every event is unchanged by Strict.
func TestProtectedIDsIntact(t *testing.T) {
	e := newEngine(t, Strict)
	for _, sc := range corpus.Scenarios() {
		orig := decodeScenario(t, sc)
		red := decodeScenario(t, sc)
		for _, l := range red {
			e.Logs(l)
		}
		for i := range orig {
			a, b := orig[i].Events(), red[i].Events()
			require.Len(t, b, len(a))
			for j := range a {
				for _, k := range []string{telemetry.KeyPromptID, telemetry.KeySessionID, telemetry.KeyToolUseID, telemetry.KeyMessageUUID,
					telemetry.KeySequence, telemetry.KeyEventName, telemetry.KeyTimestamp, telemetry.KeyOrganizationID,
					telemetry.KeyAccountUUID, telemetry.KeyAccountID, telemetry.KeyUserID} {
					va, oka := telemetry.AttributesOf(a[j]).Get(k)
					vb, okb := telemetry.AttributesOf(b[j]).Get(k)
					assert.Equal(t, oka, okb, k)
					assert.True(t, va.Equal(vb), "%s: %v != %v", k, va, vb)
				}
			}
		}
	}
}

// TestIdempotentCorpus redacts the corpus twice with each preset: the second pass changes
// nothing.
func TestIdempotentCorpus(t *testing.T) {
	for _, p := range []Policy{Strict, Balanced, None} {
		t.Run("policy="+p.Name, func(t *testing.T) {
			e := newEngine(t, p)
			for _, sc := range corpus.Scenarios() {
				ls := decodeScenario(t, sc)
				for _, l := range ls {
					e.Logs(l)
				}
				once := encodeAll(t, ls)
				for _, l := range ls {
					rep := e.Logs(l)
					assert.Zero(t, rep.Total(), sc)
				}
				assert.Equal(t, once, encodeAll(t, ls), sc)
			}
		})
	}
}

// TestPseudonymsStableAndKeyed: the same e-mail gives the same token across events, the key
// changes it, and the resource and record copies of process.owner agree.
func TestPseudonymsStableAndKeyed(t *testing.T) {
	e1 := newEngine(t, Strict)
	e2, err := New(Strict, WithKey("k2", bytes.Repeat([]byte{7}, 32)))
	require.NoError(t, err)
	ls := decodeScenario(t, "files")
	l := ls[0]
	e1.Logs(l)
	evs := l.Events()
	require.NotEmpty(t, evs)
	email := evs[0].EventRecord().UserEmail
	assert.True(t, strings.HasPrefix(email, "email:k1:"), email)
	for _, ev := range evs {
		assert.Equal(t, email, ev.EventRecord().UserEmail)
		owner, ok := ev.EventRecord().Attrs.Get(telemetry.KeyProcessOwner)
		if ok {
			assert.Equal(t, l.ResourceLogs[0].Resource.ProcessOwner, owner.Str())
		}
	}
	assert.True(t, strings.HasPrefix(l.ResourceLogs[0].Resource.ProcessOwner, "user:k1:"))
	v, ok := e2.Value(telemetry.KeyUserEmail, telemetry.String("jane.doe@acme.example"))
	require.True(t, ok)
	assert.NotEqual(t, email, v.Str())
	// The path user name and process.owner of the same person share a pseudonym.
	p, ok := e1.Value("tool_input", telemetry.String(`{"command":"ls /Users/jane.doe/x"}`))
	require.True(t, ok)
	assert.Contains(t, p.Str(), l.ResourceLogs[0].Resource.ProcessOwner)
}

func TestFailClosed(t *testing.T) {
	e := newEngine(t, Balanced, WithMaxValueBytes(1024))
	tests := []struct {
		name string
		key  string
		v    telemetry.Value
		keep bool
	}{
		{"invalid UTF-8", "prompt", telemetry.String("abc\xff\xfe"), false},
		{"declared JSON that does not parse", telemetry.KeyToolInput, telemetry.String(`{"file_path":"/Users/jane/x`), false},
		{"over the size limit", "prompt", telemetry.String(strings.Repeat("a", 2000)), false},
		{"undeclared JSON-looking text is scanned as text", "prompt", telemetry.String("[draft] mail jane@acme.example]"), true},
		{"clean text passes", "prompt", telemetry.String("hello world"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, ok := e.Value(tt.key, tt.v)
			assert.Equal(t, tt.keep, ok)
			if ok {
				assert.NotContains(t, out.Str(), "jane@")
			}
		})
	}
	ev := telemetry.New(telemetry.NameToolResult)
	telemetry.Set(ev, telemetry.KeyToolInput, telemetry.String(`{"broken`))
	rep := e.Event(ev)
	assert.Equal(t, 1, rep.Failed)
	assert.False(t, telemetry.AttributesOf(ev).Has(telemetry.KeyToolInput))
}

func TestValueKinds(t *testing.T) {
	e := newEngine(t, Balanced)
	in := telemetry.Map(
		telemetry.KeyValue{Key: "n", Value: telemetry.Int(4111111111111111)},
		telemetry.KeyValue{Key: "list", Value: telemetry.Strings("ok", "mail jane@acme.example")},
		telemetry.KeyValue{Key: "nested", Value: telemetry.Map(telemetry.KeyValue{Key: "password", Value: telemetry.String("password=Sup3rS3cret!")})},
	)
	out, ok := e.Value("mcp_args", in)
	require.True(t, ok)
	m := telemetry.Attributes(out.Map())
	n, _ := m.Get("n")
	// A number with a card's digits is scanned: a card sent as a number is a card (a
	// reviewer's leak; FuzzPlanted found it in a JSON array).
	assert.Equal(t, "************1111", n.Str())
	l, _ := m.Get("list")
	assert.Equal(t, "ok", l.Array()[0].Str())
	assert.Equal(t, "mail ***@acme.example", l.Array()[1].Str())
	nested, _ := m.Get("nested")
	pw, _ := telemetry.Attributes(nested.Map()).Get("password")
	assert.Equal(t, "[SECRET]", pw.Str(), "the member key makes the whole value a secret")
}

func TestJSONAttributes(t *testing.T) {
	e := newEngine(t, Balanced)
	in := `{"command":"mysql -u root -pHunter2Secret db","description":"x","env":{"API_TOKEN":"Zk8sQ2m9Lx0Pq7Rt4Vw1Yb6Nc3"},"n":1.5e3,"ok":true,"z":null,"u":"caf\u00e9 <b>"}`
	out, ok := e.Value(telemetry.KeyToolInput, telemetry.String(in))
	require.True(t, ok)
	assert.JSONEq(t, `{"command":"mysql -u root -p[SECRET] db","description":"x","env":{"API_TOKEN":"[SECRET]"},"n":1.5e3,"ok":true,"z":null,"u":"café <b>"}`, out.Str())
	assert.True(t, json.Valid([]byte(out.Str())))
	// Clean JSON is returned byte for byte.
	clean := `{ "a" : [1, 2, "x"] }`
	out, ok = e.Value(telemetry.KeyToolInput, telemetry.String(clean))
	require.True(t, ok)
	assert.Equal(t, clean, out.Str())
}

func TestPathRulesAndEvents(t *testing.T) {
	p := Policy{
		Name:      "custom",
		Detectors: []Detector{DetectorEmail},
		JSONKeys:  []string{"tool_input"},
		Rules: []Rule{
			{Name: "fp", Events: []string{"tool_result"}, Keys: []string{"tool_input.file_path"}, Action: ActionGeneralize, Depth: 1},
			{Name: "customer", Keys: []string{"tool_input.**.customer_*"}, Action: ActionHash, Entity: "customer"},
			{Name: "drop-desc", Keys: []string{"tool_input.description"}, Action: ActionDrop},
			{Name: "trunc", Keys: []string{"error"}, Action: ActionTruncate, MaxLen: 5},
			{Name: "mask", Keys: []string{"tool_input.note"}, Action: ActionMask, Mask: "<gone>"},
			{Name: "email-mask", Detectors: []Detector{DetectorEmail}, Keys: []string{"tool_input.contact"}, Action: ActionMask, Mask: "<email>"},
		},
	}
	e := newEngine(t, p)
	ev := telemetry.New(telemetry.NameToolResult)
	telemetry.Set(ev, telemetry.KeyToolInput, telemetry.String(`{"file_path":"/home/ann/a/b/c/d.txt","description":"d","x":{"customer_name":"Globex"},"note":"n","contact":"ann@acme.example","other":"bo@acme.example"}`))
	telemetry.Set(ev, "error", telemetry.String("a long error message"))
	rep := e.Event(ev)
	ti, _ := telemetry.AttributesOf(ev).Get(telemetry.KeyToolInput)
	assert.Contains(t, ti.Str(), `"file_path":"~/a/…/d.txt"`)
	assert.NotContains(t, ti.Str(), "description")
	assert.Contains(t, ti.Str(), `"customer_name":"customer:k1:`)
	assert.Contains(t, ti.Str(), `"note":"<gone>"`)
	assert.Contains(t, ti.Str(), `"contact":"<email>"`)
	assert.Contains(t, ti.Str(), `"other":"[EMAIL]"`)
	er, _ := telemetry.AttributesOf(ev).Get("error")
	assert.Equal(t, "a lon…", er.Str())
	assert.Equal(t, 2, rep.Changed)
	// Audit attributes: counts only.
	cnt, ok := telemetry.AttributesOf(ev).Get(AuditKeyCount)
	require.True(t, ok)
	assert.Equal(t, int64(2), cnt.IntRaw())
	rules, _ := telemetry.AttributesOf(ev).Get(AuditKeyRules)
	names := map[string]int64{}
	for _, kv := range rules.Map() {
		names[kv.Key] = kv.Value.IntRaw()
	}
	assert.Equal(t, map[string]int64{"fp": 1, "customer": 1, "drop-desc": 1, "trunc": 1, "mask": 1, "email-mask": 1, "default": 1}, names)
	assert.False(t, telemetry.AttributesOf(ev).Has(AuditKeyKeys))
	// The rule with Events does not apply elsewhere.
	out, _ := e.Value(telemetry.KeyToolInput, telemetry.String(`{"file_path":"/home/ann/a/b/c/d.txt"}`))
	assert.Equal(t, `{"file_path":"/home/ann/a/b/c/d.txt"}`, out.Str())
}

func TestAuditKeys(t *testing.T) {
	e := newEngine(t, Strict, WithAudit(AuditKeys))
	ev := telemetry.New(telemetry.NameUserPrompt)
	telemetry.Set(ev, telemetry.KeyPrompt, telemetry.String("my key AKIAQWERTYUIOPASDFGH"))
	telemetry.Set(ev, telemetry.KeyUserEmail, telemetry.String("a@b.example"))
	rep := e.Event(ev)
	assert.ElementsMatch(t, []string{"prompt", "user.email"}, rep.Keys)
	k, ok := telemetry.AttributesOf(ev).Get(AuditKeyKeys)
	require.True(t, ok)
	assert.ElementsMatch(t, []string{"prompt", "user.email"}, k.AsStrings())

	off := newEngine(t, Strict, WithAudit(AuditOff))
	ev = telemetry.New(telemetry.NameUserPrompt)
	telemetry.Set(ev, telemetry.KeyPrompt, telemetry.String("x"))
	assert.Equal(t, 1, off.Event(ev).Changed)
	assert.False(t, telemetry.AttributesOf(ev).Has(AuditKeyCount))
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		p    Policy
		opts []Option
		want error
	}{
		{"short key", Strict, []Option{WithKey("k", []byte("short"))}, ErrKey},
		{"bad key id", Strict, []Option{WithKey("a b", testKey)}, ErrKey},
		{"rule without action", Policy{Rules: []Rule{{Name: "x"}}}, nil, ErrPolicy},
		{"rule without name", Policy{Rules: []Rule{{Action: ActionDrop}}}, nil, ErrPolicy},
		{"duplicate names", Policy{Rules: []Rule{{Name: "x", Action: ActionDrop}, {Name: "x", Action: ActionDrop}}}, nil, ErrPolicy},
		{"bad glob", Policy{Rules: []Rule{{Name: "x", Keys: []string{"a.[b"}, Action: ActionDrop}}}, nil, ErrPolicy},
		{"protected key", Policy{Rules: []Rule{{Name: "x", Keys: []string{"prompt.id"}, Action: ActionDrop}}}, nil, ErrPolicy},
		{"unknown detector", Policy{Detectors: []Detector{200}}, nil, ErrPolicy},
		{"bad audit", Strict, []Option{WithAudit(AuditUnknown)}, ErrPolicy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.p, tt.opts...)
			assert.ErrorIs(t, err, tt.want)
		})
	}
}

// TestConcurrent redacts the corpus from several goroutines with one Engine (run with -race).
func TestConcurrent(t *testing.T) {
	e := newEngine(t, Strict)
	want := func() []byte {
		ls := decodeScenario(t, "mcp")
		for _, l := range ls {
			e.Logs(l)
		}
		return encodeAll(t, ls)
	}()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 5 {
				ls := decodeScenario(t, "mcp")
				for _, l := range ls {
					e.Logs(l)
				}
				assert.Equal(t, want, encodeAll(t, ls))
			}
		})
	}
	wg.Wait()
}

func TestNoKeyIsRandom(t *testing.T) {
	a, err := New(Strict)
	require.NoError(t, err)
	b, err := New(Strict)
	require.NoError(t, err)
	va, _ := a.Value(telemetry.KeyUserEmail, telemetry.String("x@acme.example"))
	vb, _ := b.Value(telemetry.KeyUserEmail, telemetry.String("x@acme.example"))
	assert.NotEqual(t, va.Str(), vb.Str(), "without WithKey each engine draws its own key")
	va2, _ := a.Value(telemetry.KeyUserEmail, telemetry.String("X@Acme.Example"))
	assert.Equal(t, va.Str(), va2.Str(), "e-mail pseudonyms ignore case")
}

func TestPolicyErrorMessage(t *testing.T) {
	err := error(&PolicyError{Line: 3, Field: "rules[0].action", Msg: "unknown action"})
	assert.True(t, errors.Is(err, ErrPolicy))
	assert.Equal(t, `redact: invalid policy: line 3: rules[0].action: unknown action`, err.Error())
}

func TestWholeRulesOnStructures(t *testing.T) {
	p := Policy{
		Name:     "structures",
		JSONKeys: []string{"tool_input"},
		Rules: []Rule{
			{Name: "paths", Keys: []string{"paths", "tool_input.paths"}, Action: ActionGeneralize},
			{Name: "len", Keys: []string{"blob", "tool_input.edits"}, Action: ActionLength},
			{Name: "keep", Keys: []string{"kept"}, Action: ActionKeep},
			{Name: "flag", Keys: []string{"tool_input.flag"}, Action: ActionMask, Mask: "x"},
		},
		Detectors: []Detector{DetectorEmail},
	}
	e := newEngine(t, p)
	paths := telemetry.Map(telemetry.KeyValue{Key: "a", Value: telemetry.Strings("/home/ann/a/b/c/d", "/tmp/x")},
		telemetry.KeyValue{Key: "n", Value: telemetry.Int(3)})
	out, ok := e.Value("paths", paths)
	require.True(t, ok)
	assert.Equal(t, "~/a/b/…/d", telemetry.Attributes(out.Map())[0].Value.Array()[0].Str())
	assert.Equal(t, int64(3), telemetry.Attributes(out.Map())[1].Value.IntRaw())

	out, _ = e.Value("blob", telemetry.Map(telemetry.KeyValue{Key: "k", Value: telemetry.String("v")}))
	assert.Equal(t, `[LEN:9]`, out.Str(), `{"k":"v"} has 9 characters`)

	kept := telemetry.Map(telemetry.KeyValue{Key: "e", Value: telemetry.String("ann@acme.example")})
	out, _ = e.Value("kept", kept)
	assert.True(t, out.Equal(kept))

	out, _ = e.Value("tool_input", telemetry.String(`{"paths":["/Users/ann/x/y/z/w"],"edits":[{"old":"a"}],"flag":true,"mail":"ann@acme.example"}`))
	assert.Equal(t, `{"paths":["~/x/y/…/w"],"edits":"[LEN:13]","flag":"x","mail":"[EMAIL]"}`, out.Str())
	again, _ := e.Value("tool_input", out)
	assert.Equal(t, out.Str(), again.Str())
}

func TestHeaderMembers(t *testing.T) {
	e := newEngine(t, Balanced)
	in := `{"url":"https://api.acme.example","headers":{"Authorization":"Bearer 9fk2Lq0ZsP4mXc7V","Cookie":"sid=abcdef123456","Accept":"application/json","X-Api-Key":"<your key>"}}`
	out, ok := e.Value("mcp_args", telemetry.String(in))
	require.True(t, ok)
	assert.Equal(t, `{"url":"https://api.acme.example","headers":{"Authorization":"Bearer [CREDENTIALS]","Cookie":"[CREDENTIALS]","Accept":"application/json","X-Api-Key":"<your key>"}}`, out.Str())
	again, _ := e.Value("mcp_args", out)
	assert.Equal(t, out.Str(), again.Str())

	// A cookie member is a placeholder only when each of its values is one.
	in = `{"headers":{"Cookie":"theme=example; sid=Zq81mXr0Tn4KbWv2","Set-Cookie":"sid=${SID}; Path=/todo; HttpOnly"}}`
	out, ok = e.Value("mcp_args", telemetry.String(in))
	require.True(t, ok)
	assert.Equal(t, `{"headers":{"Cookie":"[CREDENTIALS]","Set-Cookie":"sid=${SID}; Path=/todo; HttpOnly"}}`, out.Str())

	// A credential header behind a prefix: the CGI environment, X-Authorization.
	in = `{"environ":{"HTTP_AUTHORIZATION":"Bearer 9fk2Lq0ZsP4mXc7V","HTTP_COOKIE":"sid=abcdef123456","HTTP_ACCEPT":"*/*"},"X-Authorization":"Token q8Zr2LmX0vTn"}`
	out, ok = e.Value("mcp_args", telemetry.String(in))
	require.True(t, ok)
	assert.Equal(t, `{"environ":{"HTTP_AUTHORIZATION":"Bearer [CREDENTIALS]","HTTP_COOKIE":"[CREDENTIALS]","HTTP_ACCEPT":"*/*"},"X-Authorization":"Token [CREDENTIALS]"}`, out.Str())
}

func TestRuleTurnsDetectorOn(t *testing.T) {
	e := newEngine(t, Policy{Name: "p", Rules: []Rule{{Name: "cards", Detectors: []Detector{DetectorCard}, Action: ActionPartial, KeepLast: 4}}})
	v, ok := e.Value("note", telemetry.String("card 4111111111111111 mail a@b.example"))
	require.True(t, ok)
	assert.Equal(t, "card ************1111 mail a@b.example", v.Str())
	v, ok = newEngine(t, Strict).Value(telemetry.KeyToolInput, telemetry.String(""))
	assert.True(t, ok, "an empty declared JSON value has nothing to leak")
	assert.Equal(t, "", v.Str())
}

// TestGoBuiltEvents redacts events built from typed fields (no decoded attribute list), as a
// producer in Go makes them: the typed fields and the encoded attributes agree afterwards.
func TestGoBuiltEvents(t *testing.T) {
	f := telemetrytest.NewFactory(7)
	e := newEngine(t, Strict)
	p := f.UserPrompt()
	d := f.ToolDecision()
	r := f.ToolResult()
	l := f.Logs(p, d, r)
	owner := f.Identity.ProcessOwner
	rep := e.Logs(l)
	assert.Zero(t, rep.Failed)
	assert.Equal(t, "[LEN:"+strconv.Itoa(int(p.PromptLength))+"]", p.Prompt, "the typed field follows the attribute")
	assert.True(t, strings.HasPrefix(p.UserEmail, "email:k1:"))
	assert.NotEmpty(t, p.PromptID)
	assert.Equal(t, d.ToolUseID, r.ToolUseID)
	b, err := telemetry.EncodeLogsJSON(l)
	require.NoError(t, err)
	assertNoLeak(t, string(b), owner)
	assertNoLeak(t, string(b), "@acme.example")
	assert.True(t, strings.HasPrefix(l.ResourceLogs[0].Resource.ProcessOwner, "user:k1:"))
}

func TestCloneKeepsOriginal(t *testing.T) {
	e := newEngine(t, Strict)
	l := decodeScenario(t, "files")[0]
	for _, ev := range l.Events() {
		orig := ev.EventRecord().UserEmail
		paths := append([]string(nil), ev.EventRecord().WorkspaceHostPaths...)
		c := telemetry.Clone(ev)
		e.Event(c)
		assert.Equal(t, orig, ev.EventRecord().UserEmail)
		assert.Equal(t, paths, ev.EventRecord().WorkspaceHostPaths)
		assert.NotEqual(t, orig, c.EventRecord().UserEmail)
	}
}

// TestRepeatedKeyRedacted decodes records that repeat an attribute (OTLP forbids it; a sender
// may still do it) and redacts them with Strict: no occurrence of the raw value survives in
// either encoding, and the typed field views the value kept.
func TestRepeatedKeyRedacted(t *testing.T) {
	const rec = `{"timeUnixNano":"1795514863337000000","body":{"stringValue":"claude_code.user_prompt"},"attributes":[
 {"key":"session.id","value":{"stringValue":"s1"}},
 {"key":"user.email","value":{"stringValue":%q}},
 {"key":"event.name","value":{"stringValue":"user_prompt"}},
 {"key":"prompt.id","value":{"stringValue":"p1"}},
 {"key":"user.email","value":{"stringValue":%q}},
 {"key":"prompt","value":{"stringValue":"mail jane@acme.example"}},
 {"key":"prompt","value":{"stringValue":"card 4111 1111 1111 1111"}}]}`
	for _, tc := range []struct{ first, second string }{
		{"alice@example.com", "bob@example.com"},
		{"", "bob@example.com"}, // the first is benign, the second is not
		{"alice@example.com", ""},
	} {
		body := `{"resourceLogs":[{"scopeLogs":[{"logRecords":[` + fmt.Sprintf(rec, tc.first, tc.second) + `]}]}]}`
		l, err := telemetry.DecodeLogsJSON([]byte(body))
		require.NoError(t, err)
		e := newEngine(t, Strict)
		e.Logs(l)
		out := encodeAll(t, []*telemetry.Logs{l})
		for _, raw := range []string{"alice@", "bob@", "jane@", "4111"} {
			assert.NotContains(t, string(out), raw, "%+v", tc)
		}
		ev := l.Events()[0]
		attrs := telemetry.AttributesOf(ev)
		v, _ := attrs.Get(telemetry.KeyUserEmail)
		assert.Equal(t, v.Str(), ev.EventRecord().UserEmail, "the typed field views the kept value")
	}
}

// TestRepeatedAttributesListRedacted: a JSON record with two "attributes" members keeps both
// lists (as a repeated protobuf field would), and Strict leaves no raw value of either, in the
// encodings or in the typed fields correlation reads.
func TestRepeatedAttributesListRedacted(t *testing.T) {
	body := `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"claude_code.user_prompt"},
 "attributes":[{"key":"session.id","value":{"stringValue":"s1"}},{"key":"user.email","value":{"stringValue":"alice@example.com"}}],
 "attributes":[{"key":"event.name","value":{"stringValue":"user_prompt"}},{"key":"prompt.id","value":{"stringValue":"p1"}}]}]}]}]}`
	l, err := telemetry.DecodeLogsJSON([]byte(body))
	require.NoError(t, err)
	ev := l.Events()[0]
	require.Len(t, ev.EventRecord().Attrs, 4, "both lists are kept")
	assert.Equal(t, "s1", ev.EventRecord().SessionID)
	assert.Equal(t, "p1", ev.EventRecord().PromptID)
	newEngine(t, Strict).Logs(l)
	assert.NotContains(t, string(encodeAll(t, []*telemetry.Logs{l})), "alice@")
	assert.NotContains(t, ev.EventRecord().UserEmail, "alice@")
}

// TestRedactTwice checks that redacting what was redacted changes nothing when the first pass
// left a label or a pseudonym where a setting's name may stand: a label ([AWS_ACCESS_KEY]) or
// pseudonym (secret:k1:…) was read as a sensitive name, and the word after it was removed on
// the second pass (found by FuzzValue). It also checks that names that are not the engine's
// still make the word after them a secret.
func TestRedactTwice(t *testing.T) {
	hashSecrets, err := ParsePolicy([]byte(`{"extends":"strict","rules":[{"name":"h","what":["aws_access_key","github_token","assignment","command_line"],"action":"hash"}]}`))
	require.NoError(t, err)
	engines := map[string]*Engine{"strict": newEngine(t, Strict), "balanced": newEngine(t, Balanced), "hash": newEngine(t, hashSecrets)}
	twice := []string{
		"config\n AKIAESKS55IOEWJRCF3L\nDEB",
		"git config AKIAESKS55IOEWJRCF3L hello",
		"setx AKIAESKS55IOEWJRCF3L hello",
		"aws configure set ghp_0123456789abcdefghijABCDEFGHIJ012345 value1",
		"AKIAESKS55IOEWJRCF3L hello",
		"password=hunter22x and AKIAESKS55IOEWJRCF3L: plain",
		" config\n#ghr_iE5Dg7k36bzLCVWjqW6pEEbJ6apgwh8JJNQ6\nDEB",
		"git config (AKIAESKS55IOEWJRCF3L) hello",
		// An e-mail address inside a value under a secret-like key: its pseudonym changes what
		// the value reads as (a reviewer's cases).
		"token: jane@acme.com[",
		"auth: jane@acme.com,x",
		"secret: a@b.example]x",
		`{"token":"jane@acme.com[","auth":"a@b.example,x"}`,
		// An address beside an escaped '@', and one behind a home directory (a reviewer's).
		"jane@acme.com&#64;acme.com",
		`C:\Users\janejane\u0040acme.com`,
		"password: $2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
	}
	for name, e := range engines {
		for _, s := range twice {
			out, ok := e.Value("error", telemetry.String(s))
			require.True(t, ok)
			again, ok := e.Value("error", out)
			require.True(t, ok)
			assert.Equal(t, out.Str(), again.Str(), "%s: %q", name, s)
		}
	}
	still := map[string]string{
		"password:0123456789abcdef":         "password:[SECRET]", // 16 hex digits after a name that is no entity
		"git config password hunter22":      "git config password [SECRET]",
		"config [api_key] 8Fj2kLq9Zx7Wm4Rt": "config [api_key] [SECRET]",
	}
	for in, want := range still {
		out, _ := engines["strict"].Value("error", telemetry.String(in))
		assert.Equal(t, want, out.Str(), in)
	}
}

func TestBuiltinEntity(t *testing.T) {
	for d := range detectorCount {
		assert.True(t, builtinEntity(detectorInfos[d].entity), "%v: %q", d, detectorInfos[d].entity)
	}
	assert.False(t, builtinEntity("password"))
}

// TestCustomBaseURLScanned: anthropic.custom_base_url is free text an admin sets, and may
// carry credentials; it is scanned like any other value, not skipped as an identifier.
func TestCustomBaseURLScanned(t *testing.T) {
	e := newEngine(t, Strict)
	for _, in := range []string{
		"https://admin:Hunter2Secret@gw.acme.internal/v1",
		"https://gw.acme.internal/v1?api_key=q8Zr2LmXy7Pp0aaaQ3",
	} {
		out, _ := e.Value(telemetry.KeyCustomBaseURL, telemetry.String(in))
		assert.NotContains(t, out.Str(), "Hunter2Secret", in)
		assert.NotContains(t, out.Str(), "q8Zr2LmXy7Pp0aaaQ3", in)
		assert.Contains(t, out.Str(), "gw.acme.internal", "the host stays")
	}
}

// TestBodiesRedacted checks that a record body is redacted whatever its kind, unless it is
// only the claude_code.<name> marker (a body with text after the name, or a map, an array or
// bytes, was stored as sent before December 2026).
func TestBodiesRedacted(t *testing.T) {
	e := newEngine(t, Strict)
	tests := []struct {
		name string
		body telemetry.Value
		want string // the body's JSON after redaction
	}{
		{"marker", telemetry.String("claude_code.user_prompt"), `"claude_code.user_prompt"`},
		{"marker with text", telemetry.String("claude_code.user_prompt mail jane@acme.example"), `"claude_code.user_prompt mail email:k1:8185275da704be68"`},
		{"other event's marker", telemetry.String("claude_code.jane@acme.example"), `"email:k1:2c955f1d66bac9f2"`},
		{"map", telemetry.Map(telemetry.KeyValue{Key: "note", Value: telemetry.String("card 4111111111111111")}), `{"note":"card [CARD]"}`},
		{"array", telemetry.Strings("ok", "ssh jane@203.0.113.7:22"), `["ok","ssh jane@[IP]:22"]`},
		{"bytes", telemetry.Bytes([]byte("password=Autodom2024!")), `"password=[SECRET]"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := telemetry.New(telemetry.NameUserPrompt)
			ev.EventRecord().Body = tt.body
			e.Event(ev)
			assert.Equal(t, tt.want, valueJSON(ev.EventRecord().Body))
		})
	}
}

// TestPasswordKeyValues checks that any real value under a password-like member key is
// removed: with spaces, numeric, starting with '/' or "http", or nested below the key. Each was
// kept before December 2026. A path or URL naming where the secret is, and members naming
// something about it, stay.
func TestPasswordKeyValues(t *testing.T) {
	e := newEngine(t, Strict)
	tests := []struct{ in, want string }{
		{`{"password":"correct horse battery staple"}`, `{"password":"[SECRET]"}`},
		{`{"password":"my fake dog barks","secret":"your secret here","token":"insert token here"}`,
			`{"password":"[SECRET]","secret":"your secret here","token":"insert token here"}`},
		{`{"password":"$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW","secret":"$API_SECRET"}`,
			`{"password":"[SECRET]","secret":"$API_SECRET"}`},
		{`{"db_password":"20240611","pin_secret":"4821"}`, `{"db_password":"[SECRET]","pin_secret":"[SECRET]"}`},
		// Keys a reviewer found kept: -pass, .pass, camelCase, pw, pin, passcode, otp.
		{`{"db-pass":"hunter22","smtp.pass":"hunter23","dbPass":"hunter24","pw":"hunter25","pin":"4821","passcode":"77123","otp":"493021"}`,
			`{"db-pass":"[SECRET]","smtp.pass":"[SECRET]","dbPass":"[SECRET]","pw":"[SECRET]","pin":"[SECRET]","passcode":"[SECRET]","otp":"[SECRET]"}`},
		{`{"spin":"4821","bypass":"on","compass":"north","pinned":"yes","pin_count":3}`, `{"spin":"4821","bypass":"on","compass":"north","pinned":"yes","pin_count":3}`},
		{`{"password":"/Pa55word","secret":"httpOnlyS3cret"}`, `{"password":"[SECRET]","secret":"[SECRET]"}`},
		{`{"password":{"value":"Zq81mXr0Tn4"},"credentials":{"username":"svc","type":"basic","db":"hunter22"}}`,
			`{"password":{"value":"[SECRET]"},"credentials":{"username":"svc","type":"basic","db":"[SECRET]"}}`},
		{`{"password":["first one","S3cond"]}`, `{"password":["[SECRET]","[SECRET]"]}`},
		{`{"pin_secret":4821,"password":20240611.5,"secret_ttl":3600,"n":4111111111111111}`,
			`{"pin_secret":"[SECRET]","password":"[SECRET]","secret_ttl":3600,"n":"[CARD]"}`},
		{`{"n":[ 6224365672210782],"ts":1732443123456,"id":4111111111111112}`,
			`{"n":["[CARD]"],"ts":1732443123456,"id":4111111111111112}`},
		{`{"password_file":"/run/secrets/db","secret":"/run/secrets/api","password":"https://vault.internal/v1/db"}`,
			`{"password_file":"/run/secrets/db","secret":"/run/secrets/api","password":"https://vault.internal/v1/db"}`},
		// A bracket that never closes, or a template inside a value, is no placeholder (a
		// reviewer's leaks).
		{`{"password":"[7hx!Kq2zzP","secret":"[Hunter22]x","pw":"[YOUR_PASSWORD]"}`, `{"password":"[SECRET]","secret":"[SECRET]","pw":"[YOUR_PASSWORD]"}`},
		{`{"password":"Hunter22${x}","secret":"S3cr3t<a>pw","passwd":"Ab%s9xQz!","token":"Bearer ${TOKEN}"}`,
			`{"password":"[SECRET]","secret":"[SECRET]","passwd":"[SECRET]","token":"Bearer ${TOKEN}"}`},
		{`{"password":"<your password>","secret":"${API_SECRET}","password_length":"12"}`,
			`{"password":"<your password>","secret":"${API_SECRET}","password_length":"12"}`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			out, ok := e.Value("mcp_args", telemetry.String(tt.in))
			require.True(t, ok)
			assert.Equal(t, tt.want, out.Str())
			again, _ := e.Value("mcp_args", out)
			assert.Equal(t, out.Str(), again.Str(), "idempotent")
		})
	}
	// The same in an attribute's map value, where numbers have their wire type.
	in := telemetry.Map(telemetry.KeyValue{Key: "db_password", Value: telemetry.Int(20240611)},
		telemetry.KeyValue{Key: "secret_ttl", Value: telemetry.Int(3600)},
		telemetry.KeyValue{Key: "n", Value: telemetry.Int(4111111111111111)},
		telemetry.KeyValue{Key: "ts", Value: telemetry.Int(1732443123456)})
	out, ok := e.Value("mcp_args", in)
	require.True(t, ok)
	assert.Equal(t, `{"db_password":"[SECRET]","secret_ttl":3600,"n":"[CARD]","ts":1732443123456}`, valueJSON(out))
}

// TestGeneralizedPathsScanned checks that what a generalised or truncated value keeps is
// scanned: a path segment holding an e-mail address or a key was kept as sent before
// December 2026.
func TestGeneralizedPathsScanned(t *testing.T) {
	e := newEngine(t, Strict)
	in := `{"file_path":"/mnt/c/Users/jane/clients/ann@acme.example/AKIAQWERTYUIOPASDFGH/x/notes.txt","notebook_path":"/srv/nb/a.ipynb"}`
	out, ok := e.Value(telemetry.KeyToolInput, telemetry.String(in))
	require.True(t, ok)
	assert.Equal(t, `{"file_path":"~/clients/email:k1:`, out.Str()[:len(`{"file_path":"~/clients/email:k1:`)])
	assert.NotContains(t, out.Str(), "ann@acme.example")
	assert.NotContains(t, out.Str(), "jane")
	assert.Contains(t, out.Str(), `/…/notes.txt","notebook_path":"/srv/nb/a.ipynb"}`)

	p := Policy{Name: "t", Detectors: []Detector{DetectorAWSAccessKey},
		Rules: []Rule{{Name: "trunc", Keys: []string{"error"}, Action: ActionTruncate, MaxLen: 30}}}
	v, ok := newEngine(t, p).Value("error", telemetry.String("denied for AKIAQWERTYUIOPASDFGH on bucket x"))
	require.True(t, ok)
	assert.Equal(t, "denied for [AWS_ACCESS_KEY] on…", v.Str())
}
