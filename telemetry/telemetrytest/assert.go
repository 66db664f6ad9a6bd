package telemetrytest

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/coworkgov/cowork/telemetry"
)

// TB is the part of testing.TB the assertions use; *testing.T, *testing.B and *testing.F
// satisfy it.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
	FailNow()
}

// AssertValidPayload checks that b is a valid OTLP logs request whose events satisfy
// telemetry's lenient validation (what the real CLI sends). JSON is recognised by its leading
// '{'; anything else is decoded as protobuf. It reports each violation with t.Errorf and
// returns whether b was valid.
func AssertValidPayload(t TB, b []byte) bool {
	t.Helper()
	var err error
	if isJSON(b) {
		err = telemetry.ValidateOptions{}.ValidateLogsJSON(b)
	} else {
		err = telemetry.ValidateOptions{}.ValidateLogsProto(b)
	}
	return reportValidation(t, "payload", err)
}

// RequireValidPayload is AssertValidPayload followed by t.FailNow when b is not valid.
func RequireValidPayload(t TB, b []byte) {
	t.Helper()
	if !AssertValidPayload(t, b) {
		t.FailNow()
	}
}

// AssertValid checks events with telemetry's lenient validation, reports each violation with
// t.Errorf and returns whether they were valid.
func AssertValid(t TB, events ...telemetry.Event) bool {
	t.Helper()
	return reportValidation(t, "events", telemetry.Validate(events...))
}

// RequireValid is AssertValid followed by t.FailNow when the events are not valid.
func RequireValid(t TB, events ...telemetry.Event) {
	t.Helper()
	if !AssertValid(t, events...) {
		t.FailNow()
	}
}

func reportValidation(t TB, what string, err error) bool {
	t.Helper()
	if err == nil {
		return true
	}
	var ve *telemetry.ValidationError
	if errors.As(err, &ve) {
		for _, v := range ve.Violations {
			t.Errorf("telemetrytest: invalid %s: %s", what, v)
		}
		return false
	}
	t.Errorf("telemetrytest: invalid %s: %v", what, err)
	return false
}

func isJSON(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{'
}

// VolatileKeys are the attributes that differ between two runs of the same scenario: ids drawn
// at random, clocks and durations. [IgnoreVolatile] ignores them.
var VolatileKeys = []string{
	telemetry.KeyUserID, telemetry.KeySessionID, telemetry.KeyPromptID, telemetry.KeyTimestamp,
	telemetry.KeySequence, telemetry.KeyToolUseID, telemetry.KeyMessageUUID, telemetry.KeyRequestID,
	telemetry.KeyClientRequestID, telemetry.KeyAgentID, telemetry.KeyDurationMS, telemetry.KeyTTFTMS,
	telemetry.KeyPluginIDHash, telemetry.KeyTotalRetryDurationMS,
}

// CompareOption changes what [Diff] and [AssertEventsEqual] compare. Options are sealed.
type CompareOption interface{ apply(*compareConfig) }

type compareConfig struct {
	ignore         map[string]bool
	ignoreTimes    bool
	ignoreEnvelope bool
}

type compareFunc func(*compareConfig)

func (f compareFunc) apply(c *compareConfig) { f(c) }

// IgnoreKeys leaves the given attributes out of the comparison.
func IgnoreKeys(keys ...string) CompareOption {
	return compareFunc(func(c *compareConfig) {
		for _, k := range keys {
			c.ignore[k] = true
		}
	})
}

// IgnoreVolatile leaves out [VolatileKeys] and the record's timestamps.
func IgnoreVolatile() CompareOption {
	return compareFunc(func(c *compareConfig) {
		for _, k := range VolatileKeys {
			c.ignore[k] = true
		}
		c.ignoreTimes = true
	})
}

// IgnoreEnvelope leaves out the resource and scope.
func IgnoreEnvelope() CompareOption {
	return compareFunc(func(c *compareConfig) { c.ignoreEnvelope = true })
}

// sensitiveKeys are never printed by Diff, only their kind and length.
var sensitiveKeys = map[string]bool{
	telemetry.KeyPrompt: true, telemetry.KeyPromptText: true, telemetry.KeyResponse: true, telemetry.KeyToolInput: true,
	telemetry.KeyToolParameters: true, telemetry.KeyError: true, telemetry.KeyUserEmail: true,
	telemetry.KeyWorkspaceHostPaths: true, telemetry.KeyBody: true, telemetry.KeySystemPrompt: true,
	telemetry.KeyProcessOwner: true, telemetry.KeyEnduserID: true,
}

func show(key string, v telemetry.Value, present bool) string {
	switch {
	case !present:
		return "absent"
	case sensitiveKeys[key]:
		return fmt.Sprintf("%s(%d chars, not shown)", v.Kind(), len(v.Text()))
	}
	return v.String()
}

// Diff compares two events: their names, attribute lists (telemetry.AttributesOf: keys in
// order, wire types and values), bodies, record timestamps, resources and scopes, and returns
// one line per difference, or nil when they are equal under opts. Values of sensitive
// attributes (prompt, tool_input, user.email, …) are described, never printed.
func Diff(want, got telemetry.Event, opts ...CompareOption) []string {
	c := compareConfig{ignore: map[string]bool{}}
	for _, o := range opts {
		o.apply(&c)
	}
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if want.Name() != got.Name() {
		add("event name: want %q, got %q", want.Name(), got.Name())
	}
	w, g := want.EventRecord(), got.EventRecord()
	out = append(out, diffAttrs("attribute", filter(telemetry.AttributesOf(want), c.ignore), filter(telemetry.AttributesOf(got), c.ignore))...)
	wb, gb := bodyOf(want), bodyOf(got)
	if !wb.Equal(gb) {
		add("body: want %s, got %s", wb, gb)
	}
	if !c.ignoreTimes {
		if w.TimeUnixNano != g.TimeUnixNano {
			add("timeUnixNano: want %d, got %d", w.TimeUnixNano, g.TimeUnixNano)
		}
		if w.ObservedTimeUnixNano != g.ObservedTimeUnixNano {
			add("observedTimeUnixNano: want %d, got %d", w.ObservedTimeUnixNano, g.ObservedTimeUnixNano)
		}
	}
	if !c.ignoreEnvelope {
		var wr, gr telemetry.Attributes
		if w.Resource != nil {
			wr = w.Resource.Attrs
		}
		if g.Resource != nil {
			gr = g.Resource.Attrs
		}
		out = append(out, diffAttrs("resource", filter(wr, c.ignore), filter(gr, c.ignore))...)
		ws, gs := scopeOf(w), scopeOf(g)
		if ws != gs {
			add("scope: want %s, got %s", ws, gs)
		}
	}
	return out
}

func bodyOf(ev telemetry.Event) telemetry.Value {
	if b := ev.EventRecord().Body; !b.IsEmpty() {
		return b
	}
	return telemetry.String(telemetry.BodyPrefix + ev.Name())
}

func scopeOf(r *telemetry.Record) string {
	if r.Scope == nil {
		return "none"
	}
	return r.Scope.Name + "@" + r.Scope.Version
}

func filter(a telemetry.Attributes, ignore map[string]bool) telemetry.Attributes {
	if len(ignore) == 0 {
		return a
	}
	out := make(telemetry.Attributes, 0, len(a))
	for _, kv := range a {
		if !ignore[kv.Key] {
			out = append(out, kv)
		}
	}
	return out
}

func diffAttrs(what string, want, got telemetry.Attributes) []string {
	var out []string
	for _, kv := range want {
		gv, ok := got.Get(kv.Key)
		if !ok || !gv.Equal(kv.Value) {
			out = append(out, fmt.Sprintf("%s %s: want %s, got %s", what, kv.Key, show(kv.Key, kv.Value, true), show(kv.Key, gv, ok)))
		}
	}
	for _, kv := range got {
		if !want.Has(kv.Key) {
			out = append(out, fmt.Sprintf("%s %s: want absent, got %s", what, kv.Key, show(kv.Key, kv.Value, true)))
		}
	}
	if len(out) == 0 && !want.Equal(got) {
		out = append(out, fmt.Sprintf("%s order: want %s, got %s", what, keys(want), keys(got)))
	}
	return out
}

func keys(a telemetry.Attributes) string {
	ks := make([]string, len(a))
	for i, kv := range a {
		ks[i] = kv.Key
	}
	return strings.Join(ks, ",")
}

// AssertEventsEqual compares two event lists pairwise with [Diff], reports every difference
// with t.Errorf, and returns whether they were equal.
func AssertEventsEqual(t TB, want, got []telemetry.Event, opts ...CompareOption) bool {
	t.Helper()
	ok := true
	if len(want) != len(got) {
		t.Errorf("telemetrytest: want %d events, got %d", len(want), len(got))
		ok = false
	}
	for i := range min(len(want), len(got)) {
		for _, d := range Diff(want[i], got[i], opts...) {
			t.Errorf("telemetrytest: event %d (%s): %s", i, want[i].Name(), d)
			ok = false
		}
	}
	return ok
}
