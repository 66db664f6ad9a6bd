package telemetrytest_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/internal/corpus"
	"github.com/coworkgov/cowork/telemetry"
	"github.com/coworkgov/cowork/telemetry/telemetrytest"
)

// recorder is a TB that records failures instead of failing the test.
type recorder struct {
	errs   []string
	failed bool
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) FailNow() { r.failed = true }

var _ telemetrytest.TB = (*recorder)(nil)
var _ telemetrytest.TB = (*testing.T)(nil)

func TestAssertValidPayloadCorpus(t *testing.T) {
	for _, enc := range []corpus.Encoding{corpus.Protobuf, corpus.JSON} {
		for _, f := range corpus.Files(enc) {
			if f.Signal != "logs" {
				continue
			}
			r := &recorder{}
			assert.True(t, telemetrytest.AssertValidPayload(r, f.Data), f.Path())
			assert.Empty(t, r.errs, f.Path())
		}
	}
}

func TestAssertValidPayloadInvalid(t *testing.T) {
	f := telemetrytest.NewFactory(5)
	bad := f.ToolResult()
	bad.SessionID = "" // session.id is required
	b, err := telemetry.EncodeLogsJSON(f.Logs(bad))
	require.NoError(t, err)

	r := &recorder{}
	assert.False(t, telemetrytest.AssertValidPayload(r, b))
	require.NotEmpty(t, r.errs)
	assert.Contains(t, r.errs[0], "session.id")
	assert.False(t, r.failed)

	r = &recorder{}
	telemetrytest.RequireValidPayload(r, []byte{0x0a, 0xff})
	assert.True(t, r.failed, "Require stops the test")

	r = &recorder{}
	telemetrytest.RequireValid(r, bad)
	assert.True(t, r.failed)
	r = &recorder{}
	telemetrytest.RequireValid(r, f.UserPrompt())
	assert.False(t, r.failed)
	assert.Empty(t, r.errs)
}

func TestDiff(t *testing.T) {
	base := func() *telemetry.ToolResult {
		f := telemetrytest.NewFactory(7)
		f.UserPrompt()
		f.ToolDecision()
		return f.ToolResult()
	}
	other := func() *telemetry.ToolResult {
		f := telemetrytest.NewFactory(8) // other ids, times and identity
		f.UserPrompt()
		f.ToolDecision()
		r := f.ToolResult()
		w := base()
		// Same shape as base apart from volatile keys.
		r.ToolName, r.ToolParameters, r.ToolInput = w.ToolName, w.ToolParameters, w.ToolInput
		r.ToolInputSizeBytes, r.ToolResultSizeBytes = w.ToolInputSizeBytes, w.ToolResultSizeBytes
		r.Common.OrganizationID, r.Common.UserEmail, r.Common.AccountUUID, r.Common.AccountID = w.OrganizationID, w.UserEmail, w.AccountUUID, w.AccountID
		r.Common.WorkspaceHostPaths = w.WorkspaceHostPaths
		r.Resource = w.Resource
		return r
	}
	tests := []struct {
		name string
		got  func() telemetry.Event
		opts []telemetrytest.CompareOption
		want []string
	}{
		{"equal", func() telemetry.Event { return base() }, nil, nil},
		{"volatile ignored", func() telemetry.Event { return other() }, []telemetrytest.CompareOption{telemetrytest.IgnoreVolatile()}, nil},
		{"wire type", func() telemetry.Event {
			ev := base()
			telemetry.Set(ev, telemetry.KeyDurationMS, telemetry.Int(ev.DurationMS))
			return ev
		}, nil, []string{`attribute duration_ms: want string("`}},
		{"missing and extra", func() telemetry.Event {
			ev := base()
			ev.ToolUseID = ""
			ev.ErrorType = "ShellError"
			return ev
		}, nil, []string{"attribute tool_use_id: want string", "attribute error_type: want absent"}},
		{"sensitive not shown", func() telemetry.Event {
			ev := base()
			ev.ToolInput = `{"file_path":"/Users/x/secret"}`
			return ev
		}, nil, []string{"attribute tool_input: want string(", "chars, not shown), got string("}},
		{"name and scope", func() telemetry.Event {
			f := telemetrytest.NewFactory(7)
			ev := f.APIError()
			ev.Scope = &telemetry.Scope{Name: "x", Version: "1"}
			return ev
		}, []telemetrytest.CompareOption{telemetrytest.IgnoreVolatile(), telemetrytest.IgnoreKeys(telemetry.KeyModel)},
			[]string{`event name: want "tool_result", got "api_error"`, "scope: want com.anthropic.claude_code.events@2.1.328, got x@1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := telemetrytest.Diff(base(), tt.got(), tt.opts...)
			if tt.want == nil {
				assert.Empty(t, d)
				return
			}
			joined := fmt.Sprint(d)
			for _, w := range tt.want {
				assert.Contains(t, joined, w)
			}
			assert.NotContains(t, joined, "/Users/x/secret", "sensitive values are never printed")
		})
	}
}

func TestAssertEventsEqual(t *testing.T) {
	a := telemetrytest.NewFactory(1)
	b := telemetrytest.NewFactory(1)
	want := []telemetry.Event{a.UserPrompt(), a.APIRequest()}
	got := []telemetry.Event{b.UserPrompt(), b.APIRequest()}
	r := &recorder{}
	assert.True(t, telemetrytest.AssertEventsEqual(r, want, got))
	assert.Empty(t, r.errs)
	assert.False(t, telemetrytest.AssertEventsEqual(r, want, got[:1]))
	assert.Contains(t, r.errs[0], "want 2 events, got 1")
}
