package correlate

import (
	"testing"
	"unsafe"

	"github.com/coworkgov/cowork/internal/corpus"
	"github.com/coworkgov/cowork/telemetry"
)

// TestTouchLayout checks what touch relies on: the types sizeOf knows embed their Record
// first, so [EventRecord(), EventRecord()+sizeOf) is the event's struct; the others are read
// only over their record.
func TestTouchLayout(t *testing.T) {
	evs := []telemetry.Event{
		&telemetry.APIRequest{}, &telemetry.ToolResult{}, &telemetry.ToolDecision{},
		&telemetry.UserPrompt{}, &telemetry.AssistantResponse{},
	}
	for _, ev := range evs {
		data := (*[2]unsafe.Pointer)(unsafe.Pointer(&ev))[1]
		if unsafe.Pointer(ev.EventRecord()) != data {
			t.Errorf("%T: the record is not at the start of the struct", ev)
		}
		if sizeOf(ev) <= unsafe.Sizeof(telemetry.Record{}) {
			t.Errorf("%T: size %d", ev, sizeOf(ev))
		}
	}
	rare := []telemetry.Event{&telemetry.APIError{}, &telemetry.SubagentCompleted{}, &telemetry.Unknown{}}
	for _, ev := range rare {
		if sizeOf(ev) != unsafe.Sizeof(telemetry.Record{}) {
			t.Errorf("%T: size %d, want the record's", ev, sizeOf(ev))
		}
	}
	// Every corpus event, and nil, under -race (checkptr) too.
	all := append(append(evs, rare...), nil)
	for _, sc := range corpus.Scenarios() {
		all = append(all, corpusEvents(t, sc)...)
	}
	touchAdd(all)
	touchFull(all, chainKey{"s", "p"})
}
