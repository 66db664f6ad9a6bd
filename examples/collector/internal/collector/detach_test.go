package collector

import (
	"bytes"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/telemetry"
)

// TestDetachPreamble: the preamble's events (no prompt.id) come back as equal copies that
// share no memory with their request, in their places; the other events come back as they were.
func TestDetachPreamble(t *testing.T) {
	mk := func(name, prompt string, seq int64) telemetry.Event {
		e := telemetry.New(name)
		telemetry.Set(e, telemetry.KeySessionID, telemetry.String("s1"))
		if prompt != "" {
			telemetry.Set(e, telemetry.KeyPromptID, telemetry.String(prompt))
		}
		telemetry.Set(e, telemetry.KeySequence, telemetry.Int(seq))
		telemetry.Set(e, "padding", telemetry.String(strings.Repeat("x", 4096)))
		e.EventRecord().TimeUnixNano = uint64(1_000 + seq)
		return e
	}
	body, err := telemetry.EncodeLogsProto(telemetry.NewLogs(
		mk("plugin_loaded", "", 1), mk("user_prompt", "p1", 2), mk("mcp_server_connection", "", 3), mk("api_request", "p1", 4)))
	require.NoError(t, err)
	l, err := telemetry.DecodeLogsProto(body)
	require.NoError(t, err)
	evs := l.Events()
	src := l.Events() // a second slice of the same events, to compare with
	got := detachPreamble(evs)
	require.Len(t, got, 4)

	// In the request's memory: the decoder copies the request once and its strings point
	// into that copy, whose start the first event's padding gives.
	pad0, _ := src[0].EventRecord().Attrs.Get("padding")
	base := uintptr(unsafe.Pointer(unsafe.StringData(pad0.Str()))) - uintptr(bytes.Index(body, []byte(pad0.Str())))
	reqMem := func(s string) bool {
		p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		return p >= base && p < base+uintptr(len(body))
	}
	require.True(t, reqMem(src[2].EventRecord().SessionID), "the test's own check")
	var pre, prompted int
	for _, ev := range got {
		r := ev.EventRecord()
		v, ok := r.Attrs.Get("padding")
		require.True(t, ok)
		if r.PromptID == "" {
			pre++
			assert.False(t, reqMem(v.Str()), "%s still in its request", ev.Name())
			assert.False(t, reqMem(r.SessionID), "%s's session id still in its request", ev.Name())
		} else {
			prompted++
			assert.Contains(t, src, ev, "an event with a prompt is passed on as it is")
		}
	}
	assert.Equal(t, 2, pre)
	assert.Equal(t, 2, prompted)
	// Equal copies: the same request once encoded again.
	want, err := telemetry.EncodeLogsProto(telemetry.NewLogs(src[0], src[2]))
	require.NoError(t, err)
	again, err := telemetry.EncodeLogsProto(telemetry.NewLogs(got[0], got[2]))
	require.NoError(t, err)
	assert.Equal(t, want, again)

	none := []telemetry.Event{src[1], src[3]}
	assert.Equal(t, none, detachPreamble(none), "no preamble, nothing copied")
}
