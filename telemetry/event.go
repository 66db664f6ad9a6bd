package telemetry

//go:generate go run ../internal/cmd/genevents -o events_gen.go

import (
	"encoding/hex"
	"strings"
	"time"
)

// BodyPrefix is the prefix of the log body that repeats the event name: claude_code.<name>.
const BodyPrefix = "claude_code."

// LogsScopeName is the instrumentation scope of Claude Code's log events.
const LogsScopeName = "com.anthropic.claude_code.events"

// MetricsScopeName is the instrumentation scope (meter) of Claude Code's metrics.
const MetricsScopeName = "com.anthropic.claude_code"

// Event is one Claude Code or Cowork log event: a typed struct such as [*ToolResult] or
// [*APIRequest], or [*Unknown] for a name this version does not know. Switch on the concrete
// type to read typed fields; use [Event.EventRecord] for what every event shares.
//
// The set of implementations is closed: every Event is one of this package's types.
type Event interface {
	// Name returns the bare event name, e.g. "tool_result".
	Name() string
	// EventRecord returns the log record the event was decoded from (or will be encoded to),
	// with its standard attributes, its full attribute list, resource and scope.
	EventRecord() *Record

	setField(key string, v Value) bool
	// setFieldNext is setField for the decoder: it tries the field at *next first and
	// leaves *next after the field it set.
	setFieldNext(next *int, key string, v Value) bool
	clearField(key string) bool
	appendFields(a Attributes) Attributes
	clone() Event
}

// Clone returns a copy of ev that can be changed (with [Set] and [Delete], or by editing its
// fields) without affecting ev: the attribute list and slices are copied. Values, the Resource
// and the Scope are shared; they are immutable or must be treated as read-only.
func Clone(ev Event) Event { return ev.clone() }

func (r Record) clone() Record {
	r.Attrs = r.Attrs.Clone()
	if r.WorkspaceHostPaths != nil {
		r.WorkspaceHostPaths = append([]string(nil), r.WorkspaceHostPaths...)
	}
	return r
}

// Record is what every event shares: the OTLP log record envelope, the standard attributes
// ([Common]), the attribute list as it was on the wire, and the resource and scope it came with.
//
// The attribute list is the truth for encoding; typed fields are a view of it. For a decoded
// event, Attrs holds every attribute in wire order with its wire type, including those no typed
// field names, and encoding writes exactly that list. Change an event with [Set] and [Delete],
// which keep Attrs and the typed fields in step. An event built in Go (Attrs nil) is encoded
// from its typed fields, with the CLI's own wire types and order; see [AttributesOf].
type Record struct {
	Common

	// TimeUnixNano and ObservedTimeUnixNano are the record's timestamps (0 when unset).
	TimeUnixNano         uint64
	ObservedTimeUnixNano uint64
	// SeverityNumber and SeverityText are unset in Claude Code's events.
	SeverityNumber int32
	SeverityText   string
	// Body is claude_code.<name> in Claude Code's events.
	Body Value
	// Attrs is the full attribute list; see the type's documentation.
	Attrs Attributes
	// DroppedAttributesCount is carried through unchanged.
	DroppedAttributesCount uint32
	// Flags, TraceID and SpanID are set only when tracing is active.
	Flags   uint32
	TraceID TraceID
	SpanID  SpanID
	// WireEventName is the OTLP LogRecord event_name field, unset by Claude Code.
	WireEventName string

	// Resource and Scope are shared by the events of one resource and scope; treat them as
	// read-only.
	Resource *Resource
	Scope    *Scope

	// NameMismatch is set when the body (claude_code.X) and the event.name attribute disagree.
	// Such a record is kept; the event.name attribute decides its type.
	NameMismatch bool

	attrsValid bool // Attrs is authoritative (decoded, or materialised by Set)
	decoded    bool // the record came from the wire: its body is kept as it was, even empty
}

// EventRecord returns r.
func (r *Record) EventRecord() *Record { return r }

// Time returns the event time: event.timestamp when present, else TimeUnixNano.
func (r *Record) Time() time.Time {
	if !r.Timestamp.IsZero() {
		return r.Timestamp
	}
	if r.TimeUnixNano != 0 {
		return time.Unix(0, int64(r.TimeUnixNano)).UTC()
	}
	return time.Time{}
}

// Product returns the product that emitted the record, from the resource's service.name.
func (r *Record) Product() Product {
	if r.Resource == nil {
		return ProductUnknown
	}
	return r.Resource.Product()
}

// TraceID is an OTLP trace id; the zero value is unset.
type TraceID [16]byte

// IsZero reports whether the id is unset.
func (t TraceID) IsZero() bool { return t == TraceID{} }

// String returns the id as 32 lower-case hex digits.
func (t TraceID) String() string { return hex.EncodeToString(t[:]) }

// SpanID is an OTLP span id; the zero value is unset.
type SpanID [8]byte

// IsZero reports whether the id is unset.
func (s SpanID) IsZero() bool { return s == SpanID{} }

// String returns the id as 16 lower-case hex digits.
func (s SpanID) String() string { return hex.EncodeToString(s[:]) }

// Unknown is an event whose name this version has no typed struct for (a newer CLI's event,
// Desktop's own stream). Everything about it is kept and re-encoded unchanged.
type Unknown struct {
	Record
	name string
}

// Name returns the event name: event.name, else the body without claude_code., else the OTLP
// event_name field.
func (u *Unknown) Name() string { return u.name }

func (u *Unknown) clone() Event {
	c := *u
	c.Record = u.Record.clone()
	return &c
}

func (u *Unknown) setField(string, Value) bool           { return false }
func (u *Unknown) setFieldNext(*int, string, Value) bool { return false }
func (u *Unknown) clearField(string) bool                { return false }
func (u *Unknown) appendFields(a Attributes) Attributes  { return a }

// NewUnknown returns an Unknown event named name, for tests and producers of new event kinds.
func NewUnknown(name string) *Unknown { return &Unknown{name: name} }

// New returns an empty typed event for a known name, or an [*Unknown] named name.
func New(name string) Event {
	if ev := newEvent(name); ev != nil {
		return ev
	}
	return NewUnknown(name)
}

// Set sets the attribute key of ev to v, keeping its wire position when present, and updates
// the typed field that views it (a standard attribute or the event's own).
func Set(ev Event, key string, v Value) {
	r := ev.EventRecord()
	materialize(ev)
	r.Attrs.Set(key, v)
	if !r.Common.setField(key, v) {
		ev.setField(key, v)
	}
}

// Delete removes the attribute key from ev and zeroes the typed field that views it. It
// reports whether the attribute was present.
func Delete(ev Event, key string) bool {
	r := ev.EventRecord()
	materialize(ev)
	ok := r.Attrs.Delete(key)
	if !r.Common.clearField(key) {
		ev.clearField(key)
	}
	return ok
}

// AttributesOf returns the attribute list ev encodes to: Attrs for a decoded event (or one
// changed with [Set]), else a list built from the typed fields in the CLI's order and wire
// types, with resource attributes not repeated. The result must not be modified.
func AttributesOf(ev Event) Attributes {
	r := ev.EventRecord()
	if r.attrsValid {
		return r.Attrs
	}
	return buildAttrs(ev)
}

func buildAttrs(ev Event) Attributes {
	r := ev.EventRecord()
	a := make(Attributes, 0, len(r.Attrs)+24)
	// Common fields, with event.name (always) in its place after terminal.type.
	c := r.Common
	c.EventName = ""
	a = c.appendFields(a)
	at := a.Index(KeyTimestamp)
	if at < 0 {
		at = a.Index(KeySequence)
	}
	name := KeyValue{Key: KeyEventName, Value: String(ev.Name())}
	a = append(a, KeyValue{})
	copy(a[at+1:], a[at:])
	a[at] = name
	a = ev.appendFields(a)
	// Attributes set only in Attrs (e.g. a key no field names) follow, unless already written.
	for _, kv := range r.Attrs {
		if !a.Has(kv.Key) {
			a = append(a, kv)
		}
	}
	return a
}

// materialize makes Attrs authoritative for an event built from fields.
func materialize(ev Event) {
	r := ev.EventRecord()
	if !r.attrsValid {
		r.Attrs = buildAttrs(ev)
		r.attrsValid = true
	}
}

// bind fills the typed fields of ev from r's attributes and takes r as its record.
func bind(ev Event, r *Record) {
	dst := ev.EventRecord()
	*dst = *r
	dst.attrsValid, dst.decoded = true, true
	for _, kv := range dst.Attrs {
		if !dst.Common.setField(kv.Key, kv.Value) {
			ev.setField(kv.Key, kv.Value)
		}
	}
}

// eventName decides a record's name from event.name, the body and the OTLP event_name field,
// and whether the body disagrees.
func eventName(r *Record) (name string, mismatch bool) {
	bodyName := ""
	if r.Body.Kind() == ValueString {
		bodyName = strings.TrimPrefix(r.Body.Str(), BodyPrefix)
	}
	if v, ok := r.Attrs.Get(KeyEventName); ok && v.Text() != "" {
		name = v.Text()
		return name, bodyName != "" && bodyName != name
	}
	if bodyName != "" {
		return bodyName, false
	}
	return r.WireEventName, false
}

// eventForBody returns an empty typed event for a body claude_code.<name>, or nil.
func eventForBody(body Value) Event {
	if body.Kind() != ValueString {
		return nil
	}
	name, ok := strings.CutPrefix(body.Str(), BodyPrefix)
	if !ok {
		return nil
	}
	return newEvent(name)
}

// finish completes a decoded record. When ev, chosen early from the body, is the right type
// and its fields were filled while decoding, it is returned as is; otherwise the typed event is
// built from r.
func finish(ev Event, r *Record) Event {
	name, mismatch := eventName(r)
	if ev != nil && name == ev.Name() {
		r.attrsValid, r.decoded, r.NameMismatch = true, true, mismatch
		return ev
	}
	return newFromRecord(r)
}

// newFromRecord builds the typed event for a decoded record.
func newFromRecord(r *Record) Event {
	name, mismatch := eventName(r)
	r.NameMismatch = mismatch
	ev := newEvent(name)
	if ev == nil {
		u := &Unknown{name: name}
		bind(u, r)
		return u
	}
	bind(ev, r)
	return ev
}

const timestampLayout = "2006-01-02T15:04:05.000Z"

func parseTimestamp(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	if t, ok := parseTimestampFast(s); ok {
		return t
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC()
	}
	return time.Time{}
}

func formatTimestamp(t time.Time) string { return t.UTC().Format(timestampLayout) }

// parseTimestampFast reads the CLI's own layout, 2006-01-02T15:04:05.000Z, without the
// generality of time.Parse.
func parseTimestampFast(s string) (time.Time, bool) {
	if len(s) != 24 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != '.' || s[23] != 'Z' {
		return time.Time{}, false
	}
	num := func(i, n int) (int, bool) {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	y, ok1 := num(0, 4)
	mo, ok2 := num(5, 2)
	d, ok3 := num(8, 2)
	h, ok4 := num(11, 2)
	mi, ok5 := num(14, 2)
	sec, ok6 := num(17, 2)
	ms, ok7 := num(20, 3)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, ms*1e6, time.UTC)
	if t.Day() != d { // 31 February and the like: let time.Parse reject it
		return time.Time{}, false
	}
	return t, true
}
