package correlate

import (
	"sync/atomic"
	"unsafe"

	"github.com/coworkgov/cowork/telemetry"
)

// The events a collector buffers are cold when Add first reads them, and again when their chain
// is folded: a 38k-event fleet is 27 MB of structs of 600–820 bytes (10–13 cache lines), and
// each read that misses waits for memory. Read one event after another, the misses of the next
// event start only when the CPU gets to it: a few are outstanding at a time. Go has no prefetch
// instruction, so touchAdd (before Add's loop over its events) and touchFull (before each fold)
// load one word of each cache line the real reads will need, a batch of events at once, in a
// loop with nothing else to do: the CPU keeps many misses in flight, and the reads that follow
// hit the cache (L2 holds a batch). In the profile, the two reads that missed (Add's first read
// of the record, the fold's) were 11 % of BenchmarkAssemblerReuse; see DESIGN.md §10.

// sizeOf returns the size of ev's struct, or of its record for the rarer types.
func sizeOf(ev telemetry.Event) uintptr {
	switch ev.(type) {
	case *telemetry.APIRequest:
		return unsafe.Sizeof(telemetry.APIRequest{})
	case *telemetry.ToolResult:
		return unsafe.Sizeof(telemetry.ToolResult{})
	case *telemetry.ToolDecision:
		return unsafe.Sizeof(telemetry.ToolDecision{})
	case *telemetry.UserPrompt:
		return unsafe.Sizeof(telemetry.UserPrompt{})
	case *telemetry.AssistantResponse:
		return unsafe.Sizeof(telemetry.AssistantResponse{})
	}
	return unsafe.Sizeof(telemetry.Record{})
}

// touchFull reads a word of every cache line of the events' structs (the fold reads nearly
// every field), the strings it scans or compares, and the chain key's (ChainID hashes them).
func touchFull(evs []telemetry.Event, k chainKey) {
	x := touchString(k.session) + touchString(k.prompt)
	for _, ev := range evs {
		if ev == nil {
			continue
		}
		p := unsafe.Pointer(ev.EventRecord())
		size := sizeOf(ev)
		for off := uintptr(0); off+8 <= size; off += 64 {
			x += *(*uintptr)(unsafe.Add(p, off))
		}
		// The strings the fold scans or compares: the tool's id and JSON.
		switch ev := ev.(type) {
		case *telemetry.ToolDecision:
			x += touchString(ev.ToolUseID) + touchString(ev.ToolParameters)
		case *telemetry.ToolResult:
			x += touchString(ev.ToolUseID) + touchString(ev.ToolParameters) + touchString(ev.ToolInput)
		}
	}
	if x == 0x5bd1e995 {
		touchSink.Add(1)
	}
}

// touchAdd reads the record's fields Add reads (their lines: the session, times, sequence,
// prompt, attribute count) and a word of each line of the typed fields (the size estimate,
// terminal hint and session facts read them). The lines of the record Add does not read (the
// rest of Common, severity, body, trace) are left for the fold.
func touchAdd(evs []telemetry.Event) {
	var x uintptr
	for _, ev := range evs {
		if ev == nil {
			continue
		}
		r := ev.EventRecord()
		x += uintptr(len(r.SessionID)) + uintptr(len(r.PromptID)) + uintptr(r.TimeUnixNano) + uintptr(len(r.Attrs)) +
			*(*uintptr)(unsafe.Pointer(&r.Timestamp))
		// The key's strings: hashed and compared.
		if len(r.SessionID) > 0 {
			x += uintptr(*unsafe.StringData(r.SessionID))
		}
		if len(r.PromptID) > 0 {
			x += uintptr(*unsafe.StringData(r.PromptID))
		}
		p := unsafe.Pointer(r)
		size := sizeOf(ev)
		for off := unsafe.Sizeof(telemetry.Record{}) &^ 63; off+8 <= size; off += 64 {
			x += *(*uintptr)(unsafe.Add(p, off))
		}
	}
	if x == 0x5bd1e995 {
		touchSink.Add(1)
	}
}

// touchString reads a byte of each of the first 4 cache lines of s (the scans that read
// further go on sequentially, which the hardware prefetches).
func touchString(s string) uintptr {
	var x uintptr
	for i := 0; i < len(s) && i < 256; i += 64 {
		x += uintptr(s[i])
	}
	return x
}

// touchSink keeps touch's result alive; it is written only when the sum takes one value.
var touchSink atomic.Uintptr
