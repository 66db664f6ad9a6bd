package telemetry

import (
	"errors"
	"fmt"
	"strconv"
)

// DecodeLogsJSON decodes an OTLP/JSON ExportLogsServiceRequest with the default
// [DecodeOptions]. See [DecodeOptions.DecodeLogsJSON].
func DecodeLogsJSON(b []byte) (*Logs, error) { return DecodeOptions{}.DecodeLogsJSON(b) }

// DecodeLogsJSON decodes an OTLP/JSON ExportLogsServiceRequest into typed events. It follows
// the OTLP/JSON rules: lowerCamelCase keys (the proto names are accepted too), 64-bit integers
// as JSON numbers or strings, hex trace and span ids, enums as numbers or names. A record with a
// value of the wrong shape is reported as a [*DecodeError] and skipped; its neighbours are kept.
// Invalid JSON ends decoding, and what was decoded before it is returned. The result is never
// nil, even with an error.
func (o DecodeOptions) DecodeLogsJSON(b []byte) (*Logs, error) {
	logs := &Logs{}
	if len(b) > o.maxBytes() {
		return logs, &DecodeError{Record: -1, Err: fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(b), o.maxBytes())}
	}
	d := jsonLogsDecoder{s: jsonScanner{src: string(b), maxDepth: o.maxDepth(), strict: o.DisallowUnknownFields}}
	d.s.arena.hint = len(b) / 70 // an attribute takes about 70 bytes in OTLP/JSON
	d.s.arena.spare = o.spareAttrs()
	if err := d.request(logs); err != nil {
		d.errs = append(d.errs, err)
	}
	if d.s.peek() != 0 && len(d.errs) == 0 {
		d.errs = append(d.errs, d.s.syntax("data after the request"))
	}
	return logs, errors.Join(d.errs...)
}

type jsonLogsDecoder struct {
	s      jsonScanner
	errs   []error
	record int
	fields fieldSetter
	tmp    Record // the record being read, until its event is known
}

func (d *jsonLogsDecoder) envelopeSem(path string) {
	if d.s.sem != nil {
		d.errs = append(d.errs, &DecodeError{Record: -1, Path: path, Offset: d.s.semAt, Err: d.s.sem})
		d.s.sem = nil
	}
}

func (d *jsonLogsDecoder) request(logs *Logs) error {
	s := &d.s
	err := s.object(func(key string) error {
		switch key {
		case "resourceLogs", "resource_logs":
			return s.array(func() error {
				ri := len(logs.ResourceLogs)
				logs.ResourceLogs = append(logs.ResourceLogs, ResourceLogs{Resource: &Resource{}})
				return d.resourceLogs(&logs.ResourceLogs[ri], ri)
			})
		}
		return s.unknown(key)
	})
	d.envelopeSem("")
	return err
}

func (d *jsonLogsDecoder) resourceLogs(rl *ResourceLogs, ri int) error {
	s := &d.s
	path := "resourceLogs[" + strconv.Itoa(ri) + "]"
	err := s.object(func(key string) error {
		switch key {
		case "resource":
			err := resourceJSON(s, rl.Resource)
			d.envelopeSem(path + ".resource")
			return err
		case "scopeLogs", "scope_logs":
			return s.array(func() error {
				si := len(rl.ScopeLogs)
				rl.ScopeLogs = append(rl.ScopeLogs, ScopeLogs{Scope: &Scope{}})
				return d.scopeLogs(&rl.ScopeLogs[si], path+".scopeLogs["+strconv.Itoa(si)+"]")
			})
		case "schemaUrl", "schema_url":
			var err error
			rl.SchemaURL, err = s.stringField(key)
			return err
		}
		return s.unknown(key)
	})
	d.envelopeSem(path)
	// The resource may follow the scopes: point every event at the final resource.
	for si := range rl.ScopeLogs {
		for _, ev := range rl.ScopeLogs[si].Events {
			ev.EventRecord().Resource = rl.Resource
		}
	}
	return err
}

func resourceJSON(s *jsonScanner, r *Resource) error {
	err := s.object(func(key string) error {
		var err error
		switch key {
		case "attributes":
			r.Attrs, err = s.attributes(r.Attrs)
		case "droppedAttributesCount", "dropped_attributes_count":
			var n uint64
			n, err = s.uint64Field(key)
			r.DroppedAttributesCount = uint32(n)
		default:
			return s.skip() // entityRefs and fields of newer OTLP versions
		}
		return err
	})
	r.Refresh()
	return err
}

func scopeJSON(s *jsonScanner, sc *Scope) error {
	return s.object(func(key string) error {
		var err error
		switch key {
		case "name":
			sc.Name, err = s.stringField(key)
		case "version":
			sc.Version, err = s.stringField(key)
		case "attributes":
			sc.Attrs, err = s.attributes(sc.Attrs)
		case "droppedAttributesCount", "dropped_attributes_count":
			var n uint64
			n, err = s.uint64Field(key)
			sc.DroppedAttributesCount = uint32(n)
		default:
			return s.unknown(key)
		}
		return err
	})
}

func (d *jsonLogsDecoder) scopeLogs(sl *ScopeLogs, path string) error {
	s := &d.s
	err := s.object(func(key string) error {
		switch key {
		case "scope":
			err := scopeJSON(s, sl.Scope)
			d.envelopeSem(path + ".scope")
			return err
		case "logRecords", "log_records":
			li := 0
			return s.array(func() error {
				idx := d.record
				d.record++
				start := s.pos
				ev, r, err := d.logRecord()
				if err != nil {
					return err
				}
				if s.sem != nil {
					d.errs = append(d.errs, &DecodeError{Record: idx, Path: path + ".logRecords[" + strconv.Itoa(li) + "]", Offset: max(s.semAt, start), Err: s.sem})
					s.sem = nil
				} else {
					r.Scope = sl.Scope
					sl.Events = append(sl.Events, finish(ev, r))
				}
				li++
				return nil
			})
		case "schemaUrl", "schema_url":
			var err error
			sl.SchemaURL, err = s.stringField(key)
			return err
		}
		return s.unknown(key)
	})
	d.envelopeSem(path)
	return err
}

// logRecord reads one log record. Claude Code writes the body before the attributes: when
// the body names a known event, the record is decoded straight into that event and its typed
// fields are filled in the same pass; otherwise ev is nil and finish builds the event.
func (d *jsonLogsDecoder) logRecord() (ev Event, r *Record, err error) {
	s := &d.s
	d.tmp = Record{}
	r = &d.tmp
	if s.peek() != '{' {
		return nil, r, s.skipValueAs("logRecord", "an object")
	}
	seenAttrs := false
	err = s.object(func(key string) error {
		var err error
		switch key {
		case "timeUnixNano", "time_unix_nano":
			r.TimeUnixNano, err = s.uint64Field(key)
		case "observedTimeUnixNano", "observed_time_unix_nano":
			r.ObservedTimeUnixNano, err = s.uint64Field(key)
		case "severityNumber", "severity_number":
			r.SeverityNumber, err = severityJSON(s)
		case "severityText", "severity_text":
			r.SeverityText, err = s.stringField(key)
		case "body":
			r.Body, err = s.anyValue(0)
			if ev == nil && !seenAttrs {
				if ev = eventForBody(r.Body); ev != nil {
					er := ev.EventRecord()
					*er = *r
					r = er
				}
			}
		case "attributes":
			// A second "attributes" member adds to the first, as a repeated protobuf field
			// does: the typed fields were set from both lists, so both are in Attrs.
			again := seenAttrs
			seenAttrs = true
			s.arena.begin()
			d.fields.beginRecord()
			err = s.array(func() error {
				kv := s.arena.slot()
				err := s.keyValueInto(kv, 0)
				d.fields.setAttr(ev, r, kv)
				return err
			})
			if again {
				r.Attrs = s.arena.endOnto(r.Attrs)
			} else {
				r.Attrs = s.arena.endRecord()
			}
		case "droppedAttributesCount", "dropped_attributes_count":
			var n uint64
			n, err = s.uint64Field(key)
			r.DroppedAttributesCount = uint32(n)
		case "flags":
			var n uint64
			n, err = s.uint64Field(key)
			r.Flags = uint32(n)
		case "traceId", "trace_id":
			err = s.hexID(key, r.TraceID[:])
		case "spanId", "span_id":
			err = s.hexID(key, r.SpanID[:])
		case "eventName", "event_name":
			r.WireEventName, err = s.stringField(key)
		default:
			return s.unknown(key)
		}
		return err
	})
	return ev, r, err
}

// severityJSON reads a severity number written as a number or as its enum name.
func severityJSON(s *jsonScanner) (int32, error) {
	t, quoted, err := s.scalarText()
	if err != nil || t == "" {
		return 0, err
	}
	if quoted {
		if n, ok := severityByName[t]; ok {
			return n, nil
		}
	}
	n, perr := strconv.ParseInt(t, 10, 32)
	if perr != nil {
		s.semantic(fmt.Errorf("%w: severityNumber: %q", ErrMalformed, t))
	}
	return int32(n), nil
}

var severityByName = func() map[string]int32 {
	m := map[string]int32{"SEVERITY_NUMBER_UNSPECIFIED": 0}
	names := []string{"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}
	for i, n := range names {
		for j := 0; j < 4; j++ {
			suffix := ""
			if j > 0 {
				suffix = strconv.Itoa(j + 1)
			}
			m["SEVERITY_NUMBER_"+n+suffix] = int32(i*4 + j + 1)
		}
	}
	return m
}()
