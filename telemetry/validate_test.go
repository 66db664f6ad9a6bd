package telemetry_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/internal/corpus"
	"github.com/coworkgov/cowork/telemetry"
)

func validPrompt() *telemetry.UserPrompt {
	ev := &telemetry.UserPrompt{PromptLength: 5, Prompt: "hello"}
	ev.SessionID = "482f03c7-6d9b-45d6-822e-61c7e6c27a60"
	ev.PromptID = "b8da2283-02a9-4960-8792-f11757e33066"
	ev.Timestamp = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	ev.Sequence = 5
	return ev
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		strict bool
		mutate func(*telemetry.UserPrompt)
		rule   string
		key    string
	}{
		{"valid", false, func(*telemetry.UserPrompt) {}, "", ""},
		{"missing session", false, func(e *telemetry.UserPrompt) { telemetry.Delete(e, telemetry.KeySessionID) }, "required", "session.id"},
		{"missing prompt id", false, func(e *telemetry.UserPrompt) { telemetry.Delete(e, telemetry.KeyPromptID) }, "required", "prompt.id"},
		{"prompt id not v4", false, func(e *telemetry.UserPrompt) {
			telemetry.Set(e, telemetry.KeyPromptID, telemetry.String("b8da2283-02a9-1960-8792-f11757e33066"))
		}, "uuid", "prompt.id"},
		{"bad timestamp", false, func(e *telemetry.UserPrompt) {
			telemetry.Set(e, telemetry.KeyTimestamp, telemetry.String("yesterday"))
		}, "timestamp", "event.timestamp"},
		{"length not a number", false, func(e *telemetry.UserPrompt) {
			telemetry.Set(e, telemetry.KeyPromptLength, telemetry.String("five"))
		}, "type", "prompt_length"},
		{"stringly number is fine leniently", false, func(e *telemetry.UserPrompt) {
			telemetry.Set(e, telemetry.KeyPromptLength, telemetry.String("5"))
		}, "", ""},
		{"stringly number fails strictly", true, func(e *telemetry.UserPrompt) {
			telemetry.Set(e, telemetry.KeyPromptLength, telemetry.String("5"))
		}, "type", "prompt_length"},
		{"array where a string belongs", false, func(e *telemetry.UserPrompt) {
			telemetry.Set(e, telemetry.KeyPrompt, telemetry.Strings("a"))
		}, "type", "prompt"},
		{"missing required field", false, func(e *telemetry.UserPrompt) { telemetry.Delete(e, telemetry.KeyPrompt) }, "required", "prompt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := validPrompt()
			tt.mutate(ev)
			err := telemetry.ValidateOptions{Strict: tt.strict}.Validate(ev)
			if tt.rule == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, telemetry.ErrInvalid)
			var ve *telemetry.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Len(t, ve.Violations, 1, ve.Error())
			v := ve.Violations[0]
			assert.Equal(t, tt.rule, v.Rule)
			assert.Equal(t, tt.key, v.Key)
			assert.Equal(t, 0, v.Record)
			assert.Equal(t, "user_prompt", v.Event)
			assert.NotEmpty(t, v.Expected)
			assert.NotEmpty(t, v.Found)
		})
	}
}

func TestValidateSequenceAndEnums(t *testing.T) {
	a, b := validPrompt(), validPrompt()
	b.PromptID = "c8da2283-02a9-4960-8792-f11757e33066"
	err := telemetry.Validate(a, b)
	var ve *telemetry.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "sequence", ve.Violations[0].Rule)
	assert.Equal(t, 1, ve.Violations[0].Record)

	d := &telemetry.ToolDecision{ToolName: "Bash", Decision: telemetry.DecisionAccept, Source: telemetry.DecisionSourceConfig}
	d.Common = validPrompt().Common
	telemetry.Set(d, telemetry.KeySource, telemetry.String("robot"))
	require.NoError(t, telemetry.Validate(d), "enum lists are open leniently")
	err = telemetry.ValidateOptions{Strict: true}.Validate(d)
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "enum", ve.Violations[0].Rule)
	assert.Equal(t, "source", ve.Violations[0].Key)
}

func TestValidateCorpusStrictFlagsStringlyNumbers(t *testing.T) {
	f := corpus.Logs(corpus.JSON, "deny")[0]
	require.NoError(t, telemetry.ValidateOptions{}.ValidateLogsJSON(f.Data))
	err := telemetry.ValidateOptions{Strict: true}.ValidateLogsJSON(f.Data)
	var ve *telemetry.ValidationError
	require.ErrorAs(t, err, &ve)
	keys := map[string]bool{}
	for _, v := range ve.Violations {
		assert.Equal(t, "type", v.Rule)
		keys[v.Key] = true
	}
	assert.True(t, keys["duration_ms"])
	assert.True(t, keys["prompt_length"])
	assert.True(t, keys["success"])
}

func TestValidatePayloadReportsDecodeErrors(t *testing.T) {
	err := telemetry.ValidateOptions{}.ValidateLogsJSON([]byte(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"xyz"}]}]}]}`))
	var ve *telemetry.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "decode", ve.Violations[0].Rule)
	assert.Equal(t, 0, ve.Violations[0].Record)
}
