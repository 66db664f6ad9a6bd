package telemetry_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/internal/corpus"
	"github.com/coworkgov/cowork/telemetry"
)

func TestLenientScalars(t *testing.T) {
	tests := []struct {
		name   string
		v      telemetry.Value
		i      int64
		iok    bool
		b, bok bool
		f      float64
		fok    bool
	}{
		{"int", telemetry.Int(49), 49, true, false, false, 49, true},
		{"decimal string", telemetry.String("49"), 49, true, false, false, 49, true},
		{"padded string", telemetry.String(" 7 "), 7, true, false, false, 7, true},
		{"integral double", telemetry.Double(3), 3, true, false, false, 3, true},
		{"fraction", telemetry.Double(0.5), 0, false, false, false, 0.5, true},
		{"bool string", telemetry.String("true"), 0, false, true, true, 0, false},
		{"bool string upper", telemetry.String("FALSE"), 0, false, false, true, 0, false},
		{"bool", telemetry.Bool(true), 0, false, true, true, 0, false},
		{"int as bool", telemetry.Int(1), 1, true, true, true, 1, true},
		{"garbage", telemetry.String("undefined"), 0, false, false, false, 0, false},
		{"empty", telemetry.Value{}, 0, false, false, false, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i, iok := tt.v.AsInt()
			assert.Equal(t, tt.iok, iok)
			if iok {
				assert.Equal(t, tt.i, i)
			}
			b, bok := tt.v.AsBool()
			assert.Equal(t, tt.bok, bok)
			assert.Equal(t, tt.b, b)
			f, fok := tt.v.AsFloat()
			assert.Equal(t, tt.fok, fok)
			if fok {
				assert.Equal(t, tt.f, f)
			}
		})
	}
}

func corpusEvent[T telemetry.Event](t *testing.T, scenario string) T {
	t.Helper()
	for _, f := range corpus.Logs(corpus.Protobuf, scenario) {
		l, err := telemetry.DecodeLogsProto(f.Data)
		require.NoError(t, err)
		for _, ev := range l.Events() {
			if e, ok := ev.(T); ok {
				return e
			}
		}
	}
	var zero T
	t.Fatalf("no %T in %s", zero, scenario)
	return zero
}

func TestStringlyTypedFieldsKeepWireForm(t *testing.T) {
	tr := corpusEvent[*telemetry.ToolResult](t, "deny")
	assert.True(t, tr.Success)
	assert.Positive(t, tr.DurationMS)
	v, ok := tr.Attrs.Get(telemetry.KeyDurationMS)
	require.True(t, ok)
	assert.Equal(t, telemetry.ValueString, v.Kind(), "duration_ms stays a string on the wire")
	v, _ = tr.Attrs.Get(telemetry.KeySuccess)
	assert.Equal(t, telemetry.ValueString, v.Kind())

	out, err := telemetry.EncodeLogsProto(telemetry.NewLogs(tr))
	require.NoError(t, err)
	back, err := telemetry.DecodeLogsProto(out)
	require.NoError(t, err)
	v, _ = back.Events()[0].EventRecord().Attrs.Get(telemetry.KeyDurationMS)
	assert.Equal(t, telemetry.ValueString, v.Kind())
}

func TestSetAndDeleteKeepFieldsInStep(t *testing.T) {
	up := corpusEvent[*telemetry.UserPrompt](t, "files")
	n := len(up.Attrs)
	pos := up.Attrs.Index(telemetry.KeyPrompt)

	telemetry.Set(up, telemetry.KeyPrompt, telemetry.String("[REDACTED]"))
	assert.Equal(t, "[REDACTED]", up.Prompt)
	assert.Equal(t, pos, up.Attrs.Index(telemetry.KeyPrompt), "position kept")
	assert.Len(t, up.Attrs, n)

	assert.True(t, telemetry.Delete(up, telemetry.KeyUserEmail))
	assert.Empty(t, up.UserEmail)
	assert.False(t, up.Attrs.Has(telemetry.KeyUserEmail))
	assert.False(t, telemetry.Delete(up, telemetry.KeyUserEmail))

	telemetry.Set(up, "custom.key", telemetry.Int(3))
	v, ok := up.Attrs.Get("custom.key")
	require.True(t, ok)
	assert.Equal(t, int64(3), v.IntRaw())

	telemetry.Set(up, telemetry.KeyPromptLength, telemetry.String("12"))
	assert.Equal(t, int64(12), up.PromptLength)
}

func TestEventBuiltInGoEncodesLikeTheCLI(t *testing.T) {
	ts := time.Date(2026, 11, 24, 10, 7, 43, 229e6, time.UTC)
	ev := &telemetry.ToolResult{
		ToolName: "Bash", ToolUseID: "toolu_01", Success: true, DurationMS: 49,
		ToolParameters: `{"bash_command":"ls"}`,
	}
	ev.SessionID = "482f03c7-6d9b-45d6-822e-61c7e6c27a60"
	ev.PromptID = "b8da2283-02a9-4960-8792-f11757e33066"
	ev.Timestamp = ts
	ev.Sequence = 0
	ev.TimeUnixNano = uint64(ts.UnixNano())

	attrs := telemetry.AttributesOf(ev)
	keys := make([]string, len(attrs))
	for i, kv := range attrs {
		keys[i] = kv.Key
	}
	assert.Equal(t, []string{"session.id", "event.name", "event.timestamp", "event.sequence", "prompt.id",
		"tool_name", "tool_use_id", "success", "duration_ms", "tool_parameters"}, keys)
	v, _ := attrs.Get("duration_ms")
	assert.True(t, telemetry.String("49").Equal(v), v.String())
	v, _ = attrs.Get("success")
	assert.True(t, telemetry.String("true").Equal(v), v.String())
	v, _ = attrs.Get("event.timestamp")
	assert.Equal(t, "2026-11-24T10:07:43.229Z", v.Str())

	b, err := telemetry.EncodeLogsJSON(telemetry.NewLogs(ev))
	require.NoError(t, err)
	assert.Contains(t, string(b), `"body":{"stringValue":"claude_code.tool_result"}`)
	l, err := telemetry.DecodeLogsJSON(b)
	require.NoError(t, err)
	got := l.Events()[0].(*telemetry.ToolResult)
	assert.Equal(t, ev.DurationMS, got.DurationMS)
	assert.Equal(t, ev.PromptID, got.PromptID)
	assert.True(t, got.Success)
	require.NoError(t, telemetry.Validate(got))
}

func TestUnknownEventsAndAttributesSurvive(t *testing.T) {
	in := `{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"claude-desktop"}}]},
	"scopeLogs":[{"scope":{"name":"claude-desktop.events"},"logRecords":[
	{"timeUnixNano":"1","body":{"stringValue":"builtin_websearch_call"},"attributes":[
		{"key":"brand.new","value":{"kvlistValue":{"values":[{"key":"a","value":{"intValue":"7"}}]}}},
		{"key":"bytes","value":{"bytesValue":"AQID"}}]},
	{"body":{"stringValue":"claude_code.tool_result"},"attributes":[
		{"key":"event.name","value":{"stringValue":"tool_result"}},
		{"key":"future_key","value":{"doubleValue":"NaN"}}]}]}]}]}`
	l, err := telemetry.DecodeLogsJSON([]byte(in))
	require.NoError(t, err)
	evs := l.Events()
	require.Len(t, evs, 2)
	u, ok := evs[0].(*telemetry.Unknown)
	require.True(t, ok)
	assert.Equal(t, "builtin_websearch_call", u.Name())
	assert.Equal(t, telemetry.ProductClaudeDesktop, u.Product())
	v, _ := u.Attrs.Get("brand.new")
	assert.Equal(t, int64(7), v.Map()[0].Value.IntRaw())
	_, ok = evs[1].(*telemetry.ToolResult)
	assert.True(t, ok)

	for _, enc := range []func(*telemetry.Logs) ([]byte, error){telemetry.EncodeLogsJSON, telemetry.EncodeLogsProto} {
		b, err := enc(l)
		require.NoError(t, err)
		var back *telemetry.Logs
		if b[0] == '{' {
			back, err = telemetry.DecodeLogsJSON(b)
		} else {
			back, err = telemetry.DecodeLogsProto(b)
		}
		require.NoError(t, err)
		assertSameEvents(t, l, back)
	}
}

func TestNameMismatchIsKeptAndFlagged(t *testing.T) {
	in := `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"claude_code.api_error"},
	"attributes":[{"key":"event.name","value":{"stringValue":"api_request"}}]}]}]}]}`
	l, err := telemetry.DecodeLogsJSON([]byte(in))
	require.NoError(t, err)
	ev := l.Events()[0]
	_, isReq := ev.(*telemetry.APIRequest)
	assert.True(t, isReq, "event.name decides the type")
	assert.True(t, ev.EventRecord().NameMismatch)
	err = telemetry.Validate(ev)
	var ve *telemetry.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "name", ve.Violations[0].Rule)
}

func TestMalformedRecordIsSkippedNeighboursKept(t *testing.T) {
	good := `{"body":{"stringValue":"claude_code.user_prompt"},"attributes":[{"key":"event.name","value":{"stringValue":"user_prompt"}}]}`
	tests := []struct {
		name string
		bad  string
		err  error
	}{
		{"bad int", `{"attributes":[{"key":"x","value":{"intValue":"seven"}}]}`, telemetry.ErrMalformed},
		{"bad trace id", `{"traceId":"zz"}`, telemetry.ErrMalformed},
		{"string for bool", `{"attributes":[{"key":"x","value":{"boolValue":"maybe"}}]}`, telemetry.ErrMalformed},
		{"too deep", `{"attributes":[{"key":"x","value":` + strings.Repeat(`{"arrayValue":{"values":[`, 40) + strings.Repeat(`]}}`, 40) + `}]}`, telemetry.ErrTooDeep},
		{"not an object", `42`, telemetry.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := `{"resourceLogs":[{"scopeLogs":[{"logRecords":[` + good + `,` + tt.bad + `,` + good + `]}]}]}`
			l, err := telemetry.DecodeLogsJSON([]byte(in))
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.err)
			des := telemetry.DecodeErrors(err)
			require.Len(t, des, 1)
			assert.Equal(t, 1, des[0].Record)
			assert.Contains(t, des[0].Path, "logRecords[1]")
			assert.Equal(t, 2, l.Len(), "neighbours kept")
		})
	}
}

func TestMalformedProtoRecordIsSkipped(t *testing.T) {
	f := corpus.Logs(corpus.Protobuf, "fatal")[0]
	l, err := telemetry.DecodeLogsProto(f.Data)
	require.NoError(t, err)
	n := l.Len()
	// Corrupt one record: give its first attribute a string that is not UTF-8.
	ev := l.Events()[2]
	telemetry.Set(ev, telemetry.KeySessionID, telemetry.String("ok"))
	b, err := telemetry.EncodeLogsProto(l)
	require.NoError(t, err)
	i := strings.Index(string(b), "\n\x02ok")
	require.Positive(t, i)
	b[i+2] = 0xff
	got, err := telemetry.DecodeLogsProto(b)
	require.ErrorIs(t, err, telemetry.ErrMalformed)
	des := telemetry.DecodeErrors(err)
	require.Len(t, des, 1)
	assert.Equal(t, 2, des[0].Record)
	assert.Equal(t, n-1, got.Len())
}

func TestDecodeLimits(t *testing.T) {
	f := corpus.Logs(corpus.JSON, "fatal")[0]
	_, err := telemetry.DecodeOptions{MaxBytes: 100}.DecodeLogsJSON(f.Data)
	assert.ErrorIs(t, err, telemetry.ErrTooLarge)
	_, err = telemetry.DecodeOptions{MaxBytes: 100}.DecodeLogsProto(f.Data)
	assert.ErrorIs(t, err, telemetry.ErrTooLarge)

	_, err = telemetry.DecodeOptions{DisallowUnknownFields: true}.DecodeLogsJSON([]byte(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"whatever":1}]}]}]}`))
	assert.ErrorIs(t, err, telemetry.ErrUnknownField)
	l, err := telemetry.DecodeLogsJSON([]byte(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"whatever":{"a":[1,2,{"b":null}]}}]}]}]}`))
	require.NoError(t, err, "unknown fields are skipped by default")
	assert.Equal(t, 1, l.Len())
}

func TestTruncatedJSONReturnsPartial(t *testing.T) {
	f := corpus.Logs(corpus.JSON, "files")[0]
	cut := f.Data[:len(f.Data)*2/3]
	l, err := telemetry.DecodeLogsJSON(cut)
	require.ErrorIs(t, err, telemetry.ErrMalformed)
	assert.Positive(t, l.Len(), "records before the cut are returned")
	var de *telemetry.DecodeError
	assert.True(t, errors.As(err, &de))
}

func TestJSONAcceptsSpecForms(t *testing.T) {
	in := `{"resource_logs":[{"scope_logs":[{"log_records":[{"time_unix_nano":1795514868589000000,
	"severityNumber":"SEVERITY_NUMBER_INFO","traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708",
	"body":{"stringValue":"claude_code.api_request"},
	"attributes":[{"key":"event.name","value":{"stringValue":"api_request"}},
	{"key":"input_tokens","value":{"intValue":"15"}},{"key":"cost_usd","value":{"doubleValue":1e-3}},
	{"key":"esc","value":{"stringValue":"a\"b\\c\u00e9\ud83d\ude00\n"}}]}]}]}]}`
	l, err := telemetry.DecodeLogsJSON([]byte(in))
	require.NoError(t, err)
	ev := l.Events()[0].(*telemetry.APIRequest)
	assert.Equal(t, uint64(1795514868589000000), ev.TimeUnixNano)
	assert.Equal(t, int32(9), ev.SeverityNumber)
	assert.Equal(t, "0102030405060708090a0b0c0d0e0f10", ev.TraceID.String())
	assert.Equal(t, int64(15), ev.InputTokens)
	assert.Equal(t, 0.001, ev.CostUSD)
	v, _ := ev.Attrs.Get("esc")
	assert.Equal(t, "a\"b\\cé😀\n", v.Str())

	b, err := telemetry.EncodeOptions{IntAsString: true}.AppendLogsJSON(nil, l)
	require.NoError(t, err)
	assert.Contains(t, string(b), `{"intValue":"15"}`)
	back, err := telemetry.DecodeLogsJSON(b)
	require.NoError(t, err)
	assertSameEvents(t, l, back)
}

func TestCloneIsIndependent(t *testing.T) {
	up := corpusEvent[*telemetry.UserPrompt](t, "files")
	c := telemetry.Clone(up).(*telemetry.UserPrompt)
	telemetry.Set(c, telemetry.KeyPrompt, telemetry.String("x"))
	c.WorkspaceHostPaths[0] = "changed"
	assert.NotEqual(t, "x", up.Prompt)
	v, _ := up.Attrs.Get(telemetry.KeyPrompt)
	assert.NotEqual(t, "x", v.Str())
	assert.NotEqual(t, "changed", up.WorkspaceHostPaths[0])
	assert.Equal(t, up.Resource, c.Resource)
}

func TestGoBuiltEventKeepsBodyAfterSet(t *testing.T) {
	ev := &telemetry.PluginLoaded{PluginName: "p"}
	ev.ProcessOwner = "jane.doe"
	ev.SessionID = "s"
	telemetry.Set(ev, telemetry.KeyPluginVersion, telemetry.String("1.0"))
	attrs := telemetry.AttributesOf(ev)
	assert.Equal(t, telemetry.KeyProcessOwner, attrs[0].Key, "process.owner comes first, as the CLI writes it")
	v, ok := attrs.Get(telemetry.KeySafeMode)
	require.True(t, ok, "safe_mode is always written")
	assert.True(t, telemetry.String("false").Equal(v), v.String())
	for _, enc := range []func(*telemetry.Logs) ([]byte, error){telemetry.EncodeLogsProto, telemetry.EncodeLogsJSON} {
		b, err := enc(telemetry.NewLogs(ev))
		require.NoError(t, err)
		assert.Contains(t, string(b), "claude_code.plugin_loaded")
	}
}

// TestAttributesSetRepeatedKey: Set leaves a repeated key once, at its first place, with the
// new value, and keeps the other attributes in order.
func TestAttributesSetRepeatedKey(t *testing.T) {
	kv := func(k, v string) telemetry.KeyValue { return telemetry.KeyValue{Key: k, Value: telemetry.String(v)} }
	for _, tc := range []struct {
		name string
		in   telemetry.Attributes
		want telemetry.Attributes
	}{
		{"absent", telemetry.Attributes{kv("a", "1")}, telemetry.Attributes{kv("a", "1"), kv("k", "new")}},
		{"once", telemetry.Attributes{kv("k", "old"), kv("a", "1")}, telemetry.Attributes{kv("k", "new"), kv("a", "1")}},
		{"repeated", telemetry.Attributes{kv("a", "1"), kv("k", "x"), kv("b", "2"), kv("k", "y"), kv("c", "3"), kv("k", "z")},
			telemetry.Attributes{kv("a", "1"), kv("k", "new"), kv("b", "2"), kv("c", "3")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.in.Clone()
			a.Set("k", telemetry.String("new"))
			assert.True(t, tc.want.Equal(a), "got %v", a)
			if len(tc.in) > len(a) {
				full := a[:len(tc.in)]
				for _, e := range full[len(a):] {
					assert.Equal(t, telemetry.KeyValue{}, e, "the entries past the list are cleared")
				}
			}
		})
	}
}
