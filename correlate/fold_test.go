package correlate

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/coworkgov/cowork/telemetry"
)

// TestIsTaskNotification checks the fold's reading of a task notification against
// telemetry's (*UserPrompt).IsTaskNotification.
func TestIsTaskNotification(t *testing.T) {
	n := telemetry.TaskNotificationPrefix
	texts := []string{"", " ", "\t\n", n, " " + n, "\t\r\n\v\f " + n + "\n", n + "  ", "\u00a0" + n,
		"\u2003 \u3000" + n + " x", "\u0085" + n, " \u200b" + n, "x" + n, n[:len(n)-1], n[:len(n)-1] + " ",
		" " + n[:5], "\xff" + n, " \xff " + n, "<REDACTED>", "<task-notification >", "\u00a0", "é" + n}
	for _, prompt := range texts {
		for _, text := range texts {
			up := &telemetry.UserPrompt{Prompt: prompt, PromptText: text}
			assert.Equal(t, up.IsTaskNotification(), isTaskNotification(up), "prompt %q, text %q", prompt, text)
		}
	}
}
