package telemetry

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrInvalid is wrapped by [*ValidationError]: the events break the schema.
var ErrInvalid = errors.New("telemetry: invalid events")

// ValidateOptions configures [ValidateOptions.Validate]. The zero value validates leniently:
// it accepts what the real CLI sends (numbers and booleans as strings, cut-short JSON in
// tool_input) and treats enum lists as open.
type ValidateOptions struct {
	// Strict rejects numbers and booleans sent as strings, values of unknown enum values, JSON
	// attributes that are not complete JSON, and a scope other than Claude Code's.
	Strict bool
}

// Violation is one way an event breaks the schema.
type Violation struct {
	// Record is the index of the event in the validated list (or log record in the payload);
	// -1 for the payload itself.
	Record int
	// Event is the event name.
	Event string
	// Key is the attribute concerned, or "" for the record.
	Key string
	// Rule names the check: required, type, enum, uuid, timestamp, sequence, json, name.
	Rule string
	// Expected and Found describe the mismatch. Found never holds an attribute's value for
	// free-text attributes, only its type.
	Expected string
	Found    string
}

// String renders the violation as "record 3 (tool_result) duration_ms: type: expected …, found …".
func (v Violation) String() string {
	var b strings.Builder
	if v.Record >= 0 {
		b.WriteString("record " + strconv.Itoa(v.Record))
	} else {
		b.WriteString("payload")
	}
	if v.Event != "" {
		b.WriteString(" (" + v.Event + ")")
	}
	if v.Key != "" {
		b.WriteString(" " + v.Key)
	}
	b.WriteString(": " + v.Rule + ": expected " + v.Expected + ", found " + v.Found)
	return b.String()
}

// ValidationError carries every violation found. It wraps ErrInvalid.
type ValidationError struct {
	Violations []Violation
}

// Error gives the one violation, or the number of violations and the first.
func (e *ValidationError) Error() string {
	if len(e.Violations) == 1 {
		return "telemetry: invalid events: " + e.Violations[0].String()
	}
	return fmt.Sprintf("telemetry: invalid events: %d violations, first: %s", len(e.Violations), e.Violations[0])
}

// Unwrap returns ErrInvalid.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

// Validate checks events leniently; see [ValidateOptions.Validate].
func Validate(events ...Event) error { return ValidateOptions{}.Validate(events...) }

// Validate checks events against the schema and returns a [*ValidationError] listing every
// violation, or nil. It checks, for each event: the standard attributes every event must carry
// (session.id, event.name, event.timestamp, event.sequence), prompt.id on the events of a
// prompt, the attributes the schema marks as always present, wire types (leniently or
// strictly), UUID v4 prompt.id, ISO 8601 event.timestamp, that the body and event.name agree,
// that event.sequence increases within a session, and known enum values (strict only).
// Unknown events and attributes are not violations.
func (o ValidateOptions) Validate(events ...Event) error {
	var vs []Violation
	lastSeq := map[string]int64{}
	for i, ev := range events {
		vs = o.validateEvent(vs, i, ev, lastSeq)
	}
	if len(vs) == 0 {
		return nil
	}
	return &ValidationError{Violations: vs}
}

// ValidateLogsProto decodes a protobuf payload and validates its events. Decode errors become
// violations with Rule "decode".
func (o ValidateOptions) ValidateLogsProto(b []byte) error {
	l, err := DecodeLogsProto(b)
	return o.validatePayload(l, err)
}

// ValidateLogsJSON decodes an OTLP/JSON payload and validates its events.
func (o ValidateOptions) ValidateLogsJSON(b []byte) error {
	opts := DecodeOptions{DisallowUnknownFields: o.Strict}
	l, err := opts.DecodeLogsJSON(b)
	return o.validatePayload(l, err)
}

func (o ValidateOptions) validatePayload(l *Logs, derr error) error {
	var vs []Violation
	for _, de := range DecodeErrors(derr) {
		vs = append(vs, Violation{Record: de.Record, Key: de.Path, Rule: "decode", Expected: "valid OTLP", Found: de.Err.Error()})
	}
	if err := o.Validate(l.Events()...); err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			vs = append(vs, ve.Violations...)
		}
	}
	if o.Strict {
		for _, rl := range l.ResourceLogs {
			for _, sl := range rl.ScopeLogs {
				if sl.Scope.Name != LogsScopeName {
					vs = append(vs, Violation{Record: -1, Rule: "scope", Expected: LogsScopeName, Found: strconv.Quote(sl.Scope.Name)})
				}
			}
		}
	}
	if len(vs) == 0 {
		return nil
	}
	return &ValidationError{Violations: vs}
}

// promptEvents must carry prompt.id.
var promptEvents = map[string]bool{
	NameUserPrompt: true, NameAssistantResponse: true, NameAPIRequest: true, NameAPIError: true,
	NameToolDecision: true, NameToolResult: true,
}

var commonRequired = []string{KeySessionID, KeyEventName, KeyTimestamp, KeySequence}

func (o ValidateOptions) validateEvent(vs []Violation, i int, ev Event, lastSeq map[string]int64) []Violation {
	name := ev.Name()
	r := ev.EventRecord()
	attrs := AttributesOf(ev)
	add := func(key, rule, expected, found string) {
		vs = append(vs, Violation{Record: i, Event: name, Key: key, Rule: rule, Expected: expected, Found: found})
	}
	if r.NameMismatch {
		add("", "name", "body "+strconv.Quote(BodyPrefix+name), "body "+strconv.Quote(r.Body.Text()))
	} else if b := r.Body.Text(); r.attrsValid && b != "" && b != BodyPrefix+name && b != name {
		add("", "name", "body "+strconv.Quote(BodyPrefix+name), "body "+strconv.Quote(b))
	}
	for _, k := range commonRequired {
		if !attrs.Has(k) {
			add(k, "required", "present", "absent")
		}
	}
	if promptEvents[name] && !attrs.Has(KeyPromptID) {
		add(KeyPromptID, "required", "present", "absent")
	}
	if v, ok := attrs.Get(KeyPromptID); ok && !isUUIDv4(v.Text()) {
		add(KeyPromptID, "uuid", "a UUID v4", describe(v))
	}
	if v, ok := attrs.Get(KeyTimestamp); ok {
		if _, err := time.Parse(time.RFC3339Nano, v.Text()); err != nil || v.Kind() != ValueString {
			add(KeyTimestamp, "timestamp", "an ISO 8601 UTC time", describe(v))
		}
	}
	if v, ok := attrs.Get(KeySequence); ok {
		n, isNum := v.AsInt()
		switch {
		case !isNum || (o.Strict && v.Kind() != ValueInt):
			add(KeySequence, "type", "int", describe(v))
		default:
			sid := r.SessionID
			if prev, seen := lastSeq[sid]; seen && n <= prev {
				add(KeySequence, "sequence", "greater than "+strconv.FormatInt(prev, 10), strconv.FormatInt(n, 10))
			}
			lastSeq[sid] = n
		}
	}
	check := func(specs []fieldSpec, skipCommon bool) {
		for _, f := range specs {
			if skipCommon && (f.key == KeySequence || f.key == KeyEventName || f.key == KeyTimestamp) {
				continue
			}
			v, ok := attrs.Get(f.key)
			if !ok {
				if f.required && !skipCommon {
					add(f.key, "required", "present", "absent")
				}
				continue
			}
			if exp, bad := o.checkType(f, v); bad {
				add(f.key, "type", exp, describe(v))
				continue
			}
			if o.Strict && f.enum != nil && !contains(f.enum, v.Text()) {
				add(f.key, "enum", "one of "+strings.Join(f.enum, ", "), strconv.Quote(v.Text()))
			}
		}
	}
	check(eventSpecs[""], true)
	check(eventSpecs[name], false)
	return vs
}

// checkType reports whether v fits the field's wire type, and what was expected.
func (o ValidateOptions) checkType(f fieldSpec, v Value) (expected string, bad bool) {
	k := v.Kind()
	switch f.wire {
	case "int", "str#":
		if o.Strict {
			return "int", k != ValueInt
		}
		if f.key == KeyStatusCode && k == ValueString && v.Str() == "undefined" {
			return "", false // Cowork documents "undefined" for non-HTTP failures
		}
		_, ok := v.AsInt()
		return "int (or a decimal string)", !ok
	case "double":
		if o.Strict {
			return "double", k != ValueDouble && k != ValueInt
		}
		_, ok := v.AsFloat()
		return "double (or a numeric string)", !ok
	case "bool", "strB":
		if o.Strict {
			return "bool", k != ValueBool
		}
		_, ok := v.AsBool()
		return `bool (or "true"/"false")`, !ok
	case "str[]":
		if k != ValueArray {
			return "array of strings", true
		}
		for _, e := range v.Array() {
			if e.Kind() != ValueString {
				return "array of strings", true
			}
		}
	case "strJ":
		if k != ValueString {
			return "a JSON document in a string", true
		}
		s := v.Str()
		if json.Valid([]byte(s)) {
			return "", false
		}
		// The CLI cuts tool_input and managed settings short; lenient mode accepts a cut object.
		if !o.Strict && strings.HasPrefix(strings.TrimSpace(s), "{") {
			return "", false
		}
		return "a JSON document in a string", true
	default: // str
		if o.Strict {
			return "string", k != ValueString
		}
		return "a string or scalar", k == ValueArray || k == ValueMap || k == ValueEmpty
	}
	return "", false
}

// describe names a value's type without printing free text.
func describe(v Value) string {
	switch v.Kind() {
	case ValueString:
		s := v.Str()
		if len(s) > 40 {
			return "string of " + strconv.Itoa(len(s)) + " bytes"
		}
		return "string " + strconv.Quote(s)
	case ValueInt, ValueDouble, ValueBool:
		return v.Kind().String() + " " + v.Text()
	}
	return v.Kind().String()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// isUUIDv4 reports whether s is a canonical UUID of version 4 and the RFC 4122 variant.
func isUUIDv4(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
				return false
			}
		}
	}
	if s[14] != '4' {
		return false
	}
	switch s[19] {
	case '8', '9', 'a', 'b', 'A', 'B':
		return true
	}
	return false
}

type fieldSpec struct {
	key      string
	wire     string
	required bool
	enum     []string
}
