package telemetrytest

import (
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/telemetry"
)

var (
	reUUID4   = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	reToolUse = regexp.MustCompile(`^toolu_01[0-9A-Za-z]{22}$`)
	reAccount = regexp.MustCompile(`^user_01[0-9A-Za-z]{22}$`)
	reHex64   = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

func TestFactoryDefaults(t *testing.T) {
	f := NewFactory(1)
	id := f.Identity
	assert.Regexp(t, reHex64, id.UserID)
	assert.Regexp(t, reUUID4, id.SessionID)
	assert.Regexp(t, reUUID4, id.OrganizationID)
	assert.Regexp(t, reUUID4, id.AccountUUID)
	assert.Regexp(t, reAccount, id.AccountID)
	assert.Contains(t, id.Email, "@")

	ms := f.ManagedSettingsResolved()
	assert.Empty(t, ms.PromptID, "startup events carry no prompt.id")
	up := f.UserPrompt()
	assert.Regexp(t, reUUID4, up.PromptID)
	assert.Equal(t, int64(len([]rune(up.Prompt))), up.PromptLength)
	d := f.ToolDecision()
	r := f.ToolResult()
	req := f.APIRequest()
	resp := f.AssistantResponse()

	assert.Regexp(t, reToolUse, d.ToolUseID)
	assert.Equal(t, d.ToolUseID, r.ToolUseID, "a result follows its decision")
	assert.Equal(t, d.ToolName, r.ToolName)
	assert.Equal(t, float64(req.CostUSDMicros)/1e6, req.CostUSD)
	assert.Positive(t, req.CostUSDMicros)

	events := []telemetry.Event{ms, up, d, r, req, resp}
	var last time.Time
	for i, ev := range events {
		rec := ev.EventRecord()
		assert.Equal(t, int64(i), rec.Sequence)
		assert.True(t, rec.Timestamp.After(last), "time moves forward")
		last = rec.Timestamp
		assert.Equal(t, uint64(rec.Timestamp.UnixNano()), rec.TimeUnixNano)
		assert.Equal(t, rec.TimeUnixNano, rec.ObservedTimeUnixNano)
		assert.Equal(t, id.SessionID, rec.SessionID)
		assert.Same(t, f.Resource, rec.Resource)
		assert.Equal(t, telemetry.LogsScopeName, rec.Scope.Name)
		if i > 0 {
			assert.Equal(t, up.PromptID, rec.PromptID)
		}
	}
	require.NoError(t, telemetry.Validate(events...))
	assert.Equal(t, telemetry.ProductCowork, ms.Product())
}

func TestFactoryDeterministic(t *testing.T) {
	build := func() []byte {
		f := NewFactory(42)
		b, err := telemetry.EncodeLogsJSON(f.Logs(f.UserPrompt(), f.ToolDecision(), f.ToolResult(), f.APIRequest()))
		require.NoError(t, err)
		return b
	}
	assert.Equal(t, string(build()), string(build()))
	f1, f2 := NewFactory(1), NewFactory(2)
	assert.NotEqual(t, f1.Identity.SessionID, f2.Identity.SessionID)
}

func TestFactoryOverrides(t *testing.T) {
	f := NewFactory(3)
	at := time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)
	r := f.ToolResult(func(e *telemetry.ToolResult) {
		e.ToolName = "Read"
		e.Success = false
		e.ErrorType = "Error:ENOENT"
		e.Timestamp = at
	})
	assert.Equal(t, "Read", r.ToolName)
	assert.False(t, r.Success)
	assert.Equal(t, uint64(at.UnixNano()), r.TimeUnixNano, "a moved timestamp moves the record time")

	req := f.APIRequest(func(e *telemetry.APIRequest) {
		e.Model = "claude-opus-5-5"
		e.InputTokens = 1_000_000
		e.OutputTokens = 0
		e.CacheReadTokens = 0
		e.CacheCreationTokens = 0
	})
	assert.Equal(t, int64(5_000_000), req.CostUSDMicros, "cost recomputed from overridden tokens")
	assert.Equal(t, 5.0, req.CostUSD)
	fixed := f.APIRequest(func(e *telemetry.APIRequest) { e.CostUSD, e.CostUSDMicros = 0.5, 500000 })
	assert.Equal(t, 0.5, fixed.CostUSD, "an explicit cost is kept")

	attrs := telemetry.AttributesOf(r)
	v, ok := attrs.Get(telemetry.KeyDurationMS)
	require.True(t, ok)
	assert.Equal(t, telemetry.ValueString, v.Kind(), "duration_ms is a decimal string on tool_result, as the CLI sends it")
}

func TestFactoryStampUnknown(t *testing.T) {
	f := NewFactory(4)
	f.UserPrompt()
	ev := f.Stamp(telemetry.New("compaction"))
	assert.Equal(t, f.PromptID(), ev.EventRecord().PromptID)
	assert.Equal(t, int64(1), ev.EventRecord().Sequence)
}
