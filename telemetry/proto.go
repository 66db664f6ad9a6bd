package telemetry

import (
	"errors"
	"fmt"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/coworkgov/cowork/internal/fastutf8"
)

// DecodeLogsProto decodes an OTLP ExportLogsServiceRequest in protobuf with the default
// [DecodeOptions]. See [DecodeOptions.DecodeLogsProto].
func DecodeLogsProto(b []byte) (*Logs, error) { return DecodeOptions{}.DecodeLogsProto(b) }

// DecodeLogsProto decodes an OTLP ExportLogsServiceRequest in protobuf into typed events.
// A malformed log record is reported as a [*DecodeError] and skipped; its neighbours are still
// returned. The result is never nil, even with an error.
func (o DecodeOptions) DecodeLogsProto(b []byte) (*Logs, error) {
	logs := &Logs{}
	if len(b) > o.maxBytes() {
		return logs, &DecodeError{Record: -1, Err: fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(b), o.maxBytes())}
	}
	d := protoDecoder{src: string(b), maxDepth: o.maxDepth()}
	d.arena.hint = len(b) / 40 // an attribute takes about 40 bytes on the wire
	d.arena.spare = o.spareAttrs()
	d.decodeRequest(logs)
	return logs, errors.Join(d.errs...)
}

type protoDecoder struct {
	src      string // the whole input; decoded strings are substrings of it
	maxDepth int
	errs     []error
	record   int // index of the next log record in the request
	arena    arena
	fields   fieldSetter
}

var errTruncated = fmt.Errorf("%w: truncated field", ErrMalformed)

// field reads one tag at off within end. It returns the field number, wire type, the value's
// bounds for bytes fields (start, stop), the scalar for varint/fixed fields, and the next offset.
func (d *protoDecoder) field(off, end int) (num protowire.Number, typ protowire.Type, start, stop int, scalar uint64, next int, err error) {
	b := d.src[off:end]
	n, t, l := consumeTag(b)
	if l < 0 {
		return 0, 0, 0, 0, 0, 0, errTruncated
	}
	if n <= 0 {
		return 0, 0, 0, 0, 0, 0, fmt.Errorf("%w: invalid field number", ErrMalformed)
	}
	off += l
	b = b[l:]
	switch t {
	case protowire.VarintType:
		v, m := consumeVarint(b)
		if m < 0 {
			return 0, 0, 0, 0, 0, 0, errTruncated
		}
		return n, t, 0, 0, v, off + m, nil
	case protowire.Fixed64Type:
		if len(b) < 8 {
			return 0, 0, 0, 0, 0, 0, errTruncated
		}
		return n, t, 0, 0, le64(b), off + 8, nil
	case protowire.Fixed32Type:
		if len(b) < 4 {
			return 0, 0, 0, 0, 0, 0, errTruncated
		}
		return n, t, 0, 0, uint64(le32(b)), off + 4, nil
	case protowire.BytesType:
		v, m := consumeVarint(b)
		if m < 0 || v > uint64(len(b)-m) {
			return 0, 0, 0, 0, 0, 0, errTruncated
		}
		start = off + m
		return n, t, start, start + int(v), 0, start + int(v), nil
	case protowire.StartGroupType:
		m := protowire.ConsumeFieldValue(n, t, []byte(b)) // rare: groups are not used by OTLP
		if m < 0 {
			return 0, 0, 0, 0, 0, 0, errTruncated
		}
		return n, t, 0, 0, 0, off + m, nil
	}
	return 0, 0, 0, 0, 0, 0, fmt.Errorf("%w: wire type %d", ErrMalformed, t)
}

func (d *protoDecoder) fail(record int, path string, off int, err error) {
	d.errs = append(d.errs, &DecodeError{Record: record, Path: path, Offset: off, Err: err})
}

func (d *protoDecoder) decodeRequest(logs *Logs) {
	off, end := 0, len(d.src)
	for off < end {
		num, typ, s, e, _, next, err := d.field(off, end)
		if err != nil {
			d.fail(-1, "", off, err)
			return
		}
		if num == 1 && typ == protowire.BytesType {
			i := len(logs.ResourceLogs)
			logs.ResourceLogs = append(logs.ResourceLogs, ResourceLogs{})
			if !d.decodeResourceLogs(&logs.ResourceLogs[i], i, s, e) {
				return
			}
		}
		off = next
	}
}

func (d *protoDecoder) decodeResourceLogs(rl *ResourceLogs, ri int, off, end int) bool {
	rl.Resource = &Resource{}
	var buf [4][2]int
	scopes := buf[:0]
	for off < end {
		num, typ, s, e, _, next, err := d.field(off, end)
		if err != nil {
			d.fail(-1, "resourceLogs["+strconv.Itoa(ri)+"]", off, err)
			return false
		}
		switch {
		case num == 1 && typ == protowire.BytesType:
			if err := d.decodeResource(rl.Resource, s, e); err != nil {
				d.fail(-1, "resourceLogs["+strconv.Itoa(ri)+"].resource", s, err)
			}
		case num == 2 && typ == protowire.BytesType:
			scopes = append(scopes, [2]int{s, e}) // decoded after the resource, which may follow
		case num == 3 && typ == protowire.BytesType:
			rl.SchemaURL = d.schemaURL(s, e, "resourceLogs["+strconv.Itoa(ri)+"].schemaUrl")
		}
		off = next
	}
	rl.ScopeLogs = make([]ScopeLogs, len(scopes))
	for si, sc := range scopes {
		if !d.decodeScopeLogs(&rl.ScopeLogs[si], rl.Resource, ri, si, sc[0], sc[1]) {
			rl.ScopeLogs = rl.ScopeLogs[:si+1]
			return false
		}
	}
	return true
}

func (d *protoDecoder) decodeResource(r *Resource, off, end int) error {
	d.arena.begin()
	err := d.resourceFields(r, off, end)
	r.Attrs = d.arena.endOnto(r.Attrs) // a second resource field merges into the first
	if err == nil {
		r.Refresh()
	}
	return err
}

// resourceFields decodes a Resource's attributes into the arena and its other fields into r.
func (d *protoDecoder) resourceFields(r *Resource, off, end int) error {
	for off < end {
		num, typ, s, e, v, next, err := d.field(off, end)
		if err != nil {
			return err
		}
		switch {
		case num == 1 && typ == protowire.BytesType:
			kv := d.arena.slot()
			if *kv, err = d.decodeKeyValue(s, e, 0); err != nil {
				d.arena.unslot()
				return err
			}
		case num == 2 && typ == protowire.VarintType:
			r.DroppedAttributesCount = uint32(v)
		}
		off = next
	}
	return nil
}

func (d *protoDecoder) decodeScope(sc *Scope, off, end int) error {
	for off < end {
		num, typ, s, e, v, next, err := d.field(off, end)
		if err != nil {
			return err
		}
		switch {
		case num == 1 && typ == protowire.BytesType:
			if sc.Name, err = d.str(s, e); err != nil {
				return err
			}
		case num == 2 && typ == protowire.BytesType:
			if sc.Version, err = d.str(s, e); err != nil {
				return err
			}
		case num == 3 && typ == protowire.BytesType:
			kv, err := d.decodeKeyValue(s, e, 0)
			if err != nil {
				return err
			}
			sc.Attrs = append(sc.Attrs, kv)
		case num == 4 && typ == protowire.VarintType:
			sc.DroppedAttributesCount = uint32(v)
		}
		off = next
	}
	return nil
}

func (d *protoDecoder) decodeScopeLogs(sl *ScopeLogs, res *Resource, ri, si int, off, end int) bool {
	sl.Scope = &Scope{}
	var buf [64][2]int
	recs := buf[:0]
	path := func() string { return "resourceLogs[" + strconv.Itoa(ri) + "].scopeLogs[" + strconv.Itoa(si) + "]" }
	for off < end {
		num, typ, s, e, _, next, err := d.field(off, end)
		if err != nil {
			d.fail(-1, path(), off, err)
			return false
		}
		switch {
		case num == 1 && typ == protowire.BytesType:
			if err := d.decodeScope(sl.Scope, s, e); err != nil {
				d.fail(-1, path()+".scope", s, err)
			}
		case num == 2 && typ == protowire.BytesType:
			recs = append(recs, [2]int{s, e})
		case num == 3 && typ == protowire.BytesType:
			sl.SchemaURL = d.schemaURL(s, e, path()+".schemaUrl")
		}
		off = next
	}
	sl.Events = make([]Event, 0, len(recs))
	for li, rc := range recs {
		idx := d.record
		d.record++
		// Claude Code writes the body before the attributes: when it names a known event,
		// decode straight into that event and fill its fields in the same pass.
		ev := eventForBody(d.peekBody(rc[0], rc[1]))
		var local Record
		r := &local
		if ev != nil {
			r = ev.EventRecord()
		}
		if at, err := d.decodeLogRecord(ev, r, rc[0], rc[1]); err != nil {
			d.fail(idx, path()+".logRecords["+strconv.Itoa(li)+"]", at, err)
			continue
		}
		r.Resource, r.Scope = res, sl.Scope
		sl.Events = append(sl.Events, finish(ev, r))
	}
	return true
}

// onlyString returns the string of the AnyValue message in [s, e) when it is a string_value
// field alone (UTF-8 not checked).
func (d *protoDecoder) onlyString(s, e int) (string, bool) {
	if e-s >= 2 && d.src[s] == 0x0a {
		l, n := consumeVarint(d.src[s+1 : e])
		if n > 0 && uint64(e-s-1-n) == l {
			return d.src[s+1+n : e], true
		}
	}
	return "", false
}

// peekBody returns the record's body when it comes before any attribute, else an empty Value.
func (d *protoDecoder) peekBody(off, end int) Value {
	for off < end {
		num, typ, s, e, _, next, err := d.field(off, end)
		if err != nil || num == 6 {
			return Value{}
		}
		if num == 5 && typ == protowire.BytesType {
			if str, ok := d.onlyString(s, e); ok {
				return strValue(ValueString, str)
			}
			return Value{}
		}
		off = next
	}
	return Value{}
}

// decodeLogRecord fills r, and the typed fields of ev when it is not nil; on error it returns
// the offset of the problem.
func (d *protoDecoder) decodeLogRecord(ev Event, r *Record, off, end int) (int, error) {
	d.arena.begin()
	d.fields.beginRecord()
	for off < end {
		// Attributes (field 6, length-delimited: tag 0x32) are most of a record: read their
		// tag and length here and the common shape in one pass, without the general field
		// reader.
		// The timestamps and a string body, which every record has, are read here too.
		switch tag := d.src[off]; {
		case tag == 0x32 && off+1 < end:
			l, n := consumeVarint(d.src[off+1 : end])
			if n > 0 && l <= uint64(end-off-1-n) {
				s := off + 1 + n
				e := s + int(l)
				if kv := d.arena.slot(); d.fastKeyValue(kv, s, e) {
					d.fields.setAttr(ev, r, kv)
					off = e
					continue
				}
				d.arena.unslot()
			}
		case (tag == 0x09 || tag == 0x59) && off+9 <= end: // time_unix_nano, observed_time_unix_nano
			if v := le64(d.src[off+1 : off+9]); tag == 0x09 {
				r.TimeUnixNano = v
			} else {
				r.ObservedTimeUnixNano = v
			}
			off += 9
			continue
		case tag == 0x2a && off+1 < end: // body
			l, n := consumeVarint(d.src[off+1 : end])
			if n > 0 && l <= uint64(end-off-1-n) {
				s := off + 1 + n
				e := s + int(l)
				if str, ok := d.onlyString(s, e); ok && fastutf8.Valid(str) {
					r.Body = strValue(ValueString, str)
					off = e
					continue
				}
			}
		}
		num, typ, s, e, v, next, err := d.field(off, end)
		if err != nil {
			return off, err
		}
		if f := recordField(num); f.name != "" && typ != f.typ {
			return off, fmt.Errorf("%w: %s wire type %d", ErrMalformed, f.name, typ)
		}
		switch num {
		case 1:
			r.TimeUnixNano = v
		case 11:
			r.ObservedTimeUnixNano = v
		case 2:
			r.SeverityNumber = int32(v)
		case 3:
			if r.SeverityText, err = d.str(s, e); err != nil {
				return s, err
			}
		case 5:
			if r.Body, err = d.decodeAnyValue(r.Body, s, e, 0); err != nil {
				return s, err
			}
		case 6:
			// The fast path above has declined this attribute (or could not read its tag).
			kv, err := d.keyValueFields(s, e, 0)
			if err != nil {
				return s, err
			}
			d.arena.push(kv)
			d.fields.setAttr(ev, r, &kv)
		case 7:
			r.DroppedAttributesCount = uint32(v)
		case 8:
			r.Flags = uint32(v)
		case 9:
			if e-s == 16 {
				copy(r.TraceID[:], d.src[s:e])
			} else if e != s {
				return s, fmt.Errorf("%w: trace_id of %d bytes", ErrMalformed, e-s)
			}
		case 10:
			if e-s == 8 {
				copy(r.SpanID[:], d.src[s:e])
			} else if e != s {
				return s, fmt.Errorf("%w: span_id of %d bytes", ErrMalformed, e-s)
			}
		case 12:
			if r.WireEventName, err = d.str(s, e); err != nil {
				return s, err
			}
		}
		off = next
	}
	r.Attrs = d.arena.endRecord()
	return 0, nil
}

// schemaURL returns the schema_url in [s, e) of a resource's or scope's message at path. One
// that is not valid UTF-8 is reported and left empty: the events under it are kept.
func (d *protoDecoder) schemaURL(s, e int, path string) string {
	v, err := d.str(s, e)
	if err != nil {
		d.fail(-1, path, s, err)
	}
	return v
}

// wireField is a field's name and wire type.
type wireField struct {
	name string
	typ  protowire.Type
}

// logRecordFields are the LogRecord fields the decoder reads, by number.
var logRecordFields = [...]wireField{
	1: {"time_unix_nano", protowire.Fixed64Type}, 2: {"severity_number", protowire.VarintType},
	3: {"severity_text", protowire.BytesType}, 5: {"body", protowire.BytesType},
	6: {"attribute", protowire.BytesType}, 7: {"dropped_attributes_count", protowire.VarintType},
	8: {"flags", protowire.Fixed32Type}, 9: {"trace_id", protowire.BytesType},
	10: {"span_id", protowire.BytesType}, 11: {"observed_time_unix_nano", protowire.Fixed64Type},
	12: {"event_name", protowire.BytesType},
}

// recordField returns the LogRecord field num, or a zero wireField for one the decoder does
// not read (skipped, as any unknown field). A known field of another wire type makes the
// record malformed: protobuf's own decoders keep it as an unknown field, and the value is
// lost without a word; read as if it had the right type, it would be a wrong value.
func recordField(num protowire.Number) wireField {
	if num > 0 && int(num) < len(logRecordFields) {
		return logRecordFields[num]
	}
	return wireField{}
}

func (d *protoDecoder) str(s, e int) (string, error) {
	v := d.src[s:e]
	if !fastutf8.Valid(v) {
		return "", fmt.Errorf("%w: invalid UTF-8 in string", ErrMalformed)
	}
	return v, nil
}

func (d *protoDecoder) decodeKeyValue(off, end, depth int) (KeyValue, error) {
	var kv KeyValue
	if d.fastKeyValue(&kv, off, end) {
		return kv, nil
	}
	return d.keyValueFields(off, end, depth)
}

// keyValueFields decodes a KeyValue message in any form.
func (d *protoDecoder) keyValueFields(off, end, depth int) (KeyValue, error) {
	var kv KeyValue
	for off < end {
		num, typ, s, e, _, next, err := d.field(off, end)
		if err != nil {
			return kv, err
		}
		if typ == protowire.BytesType {
			switch num {
			case 1:
				if kv.Key, err = d.str(s, e); err != nil {
					return kv, err
				}
			case 2:
				if kv.Value, err = d.decodeAnyValue(kv.Value, s, e, depth); err != nil {
					return kv, err
				}
			}
		}
		off = next
	}
	return kv, nil
}

// decodeAnyValue decodes the AnyValue message in [off, end) into v, the value an earlier
// occurrence of the same field decoded (or the empty value): as protobuf merges a repeated
// message field, a field of the message replaces v, except that an array or kvlist adds its
// elements to those of an array or kvlist v, and a message without a field leaves v as it is.
func (d *protoDecoder) decodeAnyValue(v Value, off, end, depth int) (Value, error) {
	for off < end {
		num, typ, s, e, x, next, err := d.field(off, end)
		if err != nil {
			return v, err
		}
		switch {
		case num == 1 && typ == protowire.BytesType:
			str, err := d.str(s, e)
			if err != nil {
				return v, err
			}
			v = strValue(ValueString, str)
		case num == 2 && typ == protowire.VarintType:
			v = Bool(x != 0)
		case num == 3 && typ == protowire.VarintType:
			v = scalar(ValueInt, x)
		case num == 4 && typ == protowire.Fixed64Type:
			v = scalar(ValueDouble, x)
		case (num == 5 || num == 6) && typ == protowire.BytesType:
			if depth+1 > d.maxDepth {
				return v, ErrTooDeep
			}
			if num == 5 {
				var buf [8]Value
				vs := buf[:0]
				if v.Kind() == ValueArray {
					vs = append(vs, v.Array()...)
				}
				for o := s; o < e; {
					n2, t2, s2, e2, _, nx, err := d.field(o, e)
					if err != nil {
						return v, err
					}
					if n2 == 1 && t2 == protowire.BytesType {
						ev, err := d.decodeAnyValue(Value{}, s2, e2, depth+1)
						if err != nil {
							return v, err
						}
						vs = append(vs, ev)
					}
					o = nx
				}
				v = d.arena.array(vs)
			} else {
				var kvs []KeyValue
				if v.Kind() == ValueMap {
					kvs = append(kvs, v.Map()...)
				}
				for o := s; o < e; {
					n2, t2, s2, e2, _, nx, err := d.field(o, e)
					if err != nil {
						return v, err
					}
					if n2 == 1 && t2 == protowire.BytesType {
						kv, err := d.decodeKeyValue(s2, e2, depth+1)
						if err != nil {
							return v, err
						}
						kvs = append(kvs, kv)
					}
					o = nx
				}
				v = Map(kvs...)
			}
		case num == 7 && typ == protowire.BytesType:
			v = strValue(ValueBytes, d.src[s:e])
		}
		off = next
	}
	return v, nil
}

// consumeTag and consumeVarint work on strings to avoid converting the input back to bytes.
func consumeTag(b string) (protowire.Number, protowire.Type, int) {
	v, n := consumeVarint(b)
	if n < 0 {
		return 0, 0, -1
	}
	if v>>3 > uint64(protowire.MaxValidNumber) { // 2²⁹-1: larger numbers are malformed
		return -1, 0, n
	}
	return protowire.Number(v >> 3), protowire.Type(v & 7), n
}

func consumeVarint(b string) (uint64, int) {
	if len(b) > 0 && b[0] < 0x80 {
		return uint64(b[0]), 1
	}
	var v uint64
	for i := 0; i < 10 && i < len(b); i++ {
		c := b[i]
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			if i == 9 && c > 1 {
				return 0, -1
			}
			return v, i + 1
		}
	}
	return 0, -1
}

func le64(b string) uint64 {
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

func le32(b string) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// fastKeyValue decodes the common shape of an attribute, a key followed by a scalar value, in
// one pass: 0x0a len key 0x12 len (0x0a len str | 0x10 bool | 0x18 int | 0x21 double). Any other
// shape (arrays, maps, unusual field order, invalid UTF-8) returns ok=false and the generic
// path decodes it.
func (d *protoDecoder) fastKeyValue(kv *KeyValue, off, end int) bool {
	src := d.src[:end]
	if off >= end || src[off] != 0x0a {
		return false
	}
	kl, n := consumeVarint(src[off+1:])
	if n < 0 || kl > uint64(end-off-1-n) {
		return false
	}
	ks := off + 1 + n
	ke := ks + int(kl)
	if ke+2 > end || src[ke] != 0x12 {
		return false
	}
	vl, n := consumeVarint(src[ke+1:])
	if n < 0 || vl > uint64(end-ke-1-n) {
		return false
	}
	vs := ke + 1 + n
	ve := vs + int(vl)
	if ve != end || vs >= ve {
		return false
	}
	key := src[ks:ke]
	var val Value
	switch src[vs] {
	case 0x0a: // string_value
		sl, n := consumeVarint(src[vs+1 : ve])
		if n < 0 || uint64(ve-vs-1-n) != sl {
			return false
		}
		str := src[vs+1+n : ve]
		// When both lengths take one byte, everything between the key and the string is
		// ASCII (tags and lengths under 0x80), so one check of the whole span is the check
		// of both: an ASCII byte can neither end nor continue a multi-byte rune.
		if vs == ke+2 && n == 1 {
			if !fastutf8.Valid(src[ks:ve]) {
				return false
			}
		} else if !fastutf8.Valid(key) || !fastutf8.Valid(str) {
			return false
		}
		kv.Key, kv.Value = key, strValue(ValueString, str)
		return true
	case 0x10: // bool_value
		x, n := consumeVarint(src[vs+1 : ve])
		if n < 0 || vs+1+n != ve {
			return false
		}
		val = Bool(x != 0)
	case 0x18: // int_value
		x, n := consumeVarint(src[vs+1 : ve])
		if n < 0 || vs+1+n != ve {
			return false
		}
		val = scalar(ValueInt, x)
	case 0x21: // double_value
		if ve-vs != 9 {
			return false
		}
		val = scalar(ValueDouble, le64(src[vs+1:ve]))
	default:
		return false
	}
	if !fastutf8.Valid(key) {
		return false
	}
	kv.Key, kv.Value = key, val
	return true
}
