package telemetry

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/coworkgov/cowork/internal/fastutf8"
	"github.com/coworkgov/cowork/internal/jsonstr"
)

// EncodeLogsProto encodes l as an OTLP ExportLogsServiceRequest in protobuf. See
// [EncodeOptions.AppendLogsProto].
func EncodeLogsProto(l *Logs) ([]byte, error) { return EncodeOptions{}.AppendLogsProto(nil, l) }

// EncodeLogsJSON encodes l as an OTLP/JSON ExportLogsServiceRequest the way Claude Code writes
// it. See [EncodeOptions.AppendLogsJSON].
func EncodeLogsJSON(l *Logs) ([]byte, error) { return EncodeOptions{}.AppendLogsJSON(nil, l) }

// AppendLogsProto appends l to dst as an OTLP ExportLogsServiceRequest in protobuf. Each event
// writes [AttributesOf] in order, so decoded events re-encode with their wire types. Fields
// appear in field-number order, as Claude Code writes them, so a decoded request re-encodes to
// the same bytes. It fails only for strings that are not valid UTF-8 (wrapping ErrMalformed),
// which protobuf forbids.
func (o EncodeOptions) AppendLogsProto(dst []byte, l *Logs) ([]byte, error) {
	e := protoEncoder{buf: dst}
	for i := range l.ResourceLogs {
		rl := &l.ResourceLogs[i]
		e.prepare(rl)
		e.buf = protowire.AppendTag(e.buf, 1, protowire.BytesType)
		e.buf = protowire.AppendVarint(e.buf, uint64(e.resourceLogsSize(rl)))
		e.resourceLogs(rl)
	}
	if e.err != nil {
		return nil, e.err
	}
	return e.buf, nil
}

// prepare computes, once per event of rl, the attribute list it encodes to and the size of
// its record, so that neither is rebuilt at each level of nesting.
func (e *protoEncoder) prepare(rl *ResourceLogs) {
	e.attrs, e.sizes = e.attrs[:0], e.sizes[:0]
	for i := range rl.ScopeLogs {
		for _, ev := range rl.ScopeLogs[i].Events {
			a := AttributesOf(ev)
			e.attrs = append(e.attrs, a)
			e.sizes = append(e.sizes, recordSize(ev.EventRecord(), a))
		}
	}
}

type protoEncoder struct {
	buf   []byte
	err   error
	attrs []Attributes // per-event attribute lists of the resourceLogs being written
	sizes []int        // per-event record sizes, in the same order
}

func sizeBytes(num protowire.Number, n int) int {
	return protowire.SizeTag(num) + protowire.SizeBytes(n)
}

func (e *protoEncoder) str(num protowire.Number, s string) {
	if !fastutf8.Valid(s) && e.err == nil {
		e.err = fmt.Errorf("%w: string field %d is not valid UTF-8", ErrMalformed, num)
	}
	e.buf = protowire.AppendTag(e.buf, num, protowire.BytesType)
	e.buf = protowire.AppendString(e.buf, s)
}

func (e *protoEncoder) resourceLogsSize(rl *ResourceLogs) int {
	n := 0
	if rl.Resource != nil {
		n += sizeBytes(1, resourceSize(rl.Resource))
	}
	k := 0
	for i := range rl.ScopeLogs {
		n += sizeBytes(2, e.scopeLogsSize(&rl.ScopeLogs[i], k))
		k += len(rl.ScopeLogs[i].Events)
	}
	if rl.SchemaURL != "" {
		n += sizeBytes(3, len(rl.SchemaURL))
	}
	return n
}

func resourceSize(r *Resource) int {
	n := attrsSize(1, r.Attrs)
	n += protowire.SizeTag(2) + protowire.SizeVarint(uint64(r.DroppedAttributesCount))
	return n
}

func scopeSize(s *Scope) int {
	n := 0
	if s.Name != "" {
		n += sizeBytes(1, len(s.Name))
	}
	if s.Version != "" {
		n += sizeBytes(2, len(s.Version))
	}
	n += attrsSize(3, s.Attrs)
	if s.DroppedAttributesCount != 0 {
		n += protowire.SizeTag(4) + protowire.SizeVarint(uint64(s.DroppedAttributesCount))
	}
	return n
}

// scopeLogsSize sizes sl, whose first event is event k of the prepared resourceLogs.
func (e *protoEncoder) scopeLogsSize(sl *ScopeLogs, k int) int {
	n := 0
	if sl.Scope != nil {
		n += sizeBytes(1, scopeSize(sl.Scope))
	}
	for i := range sl.Events {
		n += sizeBytes(2, e.sizes[k+i])
	}
	if sl.SchemaURL != "" {
		n += sizeBytes(3, len(sl.SchemaURL))
	}
	return n
}

func recordSize(r *Record, attrs Attributes) int {
	n := 0
	if r.TimeUnixNano != 0 {
		n += protowire.SizeTag(1) + 8
	}
	if r.SeverityNumber != 0 {
		n += protowire.SizeTag(2) + protowire.SizeVarint(uint64(int64(r.SeverityNumber)))
	}
	if r.SeverityText != "" {
		n += sizeBytes(3, len(r.SeverityText))
	}
	if body := recordBody(r, attrs); !body.IsEmpty() {
		n += sizeBytes(5, anyValueSize(body))
	}
	n += attrsSize(6, attrs)
	n += protowire.SizeTag(7) + protowire.SizeVarint(uint64(r.DroppedAttributesCount))
	if r.Flags != 0 {
		n += protowire.SizeTag(8) + 4
	}
	if !r.TraceID.IsZero() {
		n += sizeBytes(9, 16)
	}
	if !r.SpanID.IsZero() {
		n += sizeBytes(10, 8)
	}
	if r.ObservedTimeUnixNano != 0 {
		n += protowire.SizeTag(11) + 8
	}
	if r.WireEventName != "" {
		n += sizeBytes(12, len(r.WireEventName))
	}
	return n
}

// recordBody is the record's body, or claude_code.<name> for an event built in Go without one.
func recordBody(r *Record, attrs Attributes) Value {
	if !r.Body.IsEmpty() || r.decoded {
		return r.Body
	}
	if v, ok := attrs.Get(KeyEventName); ok && v.Text() != "" {
		return String(BodyPrefix + v.Text())
	}
	return Value{}
}

func attrsSize(num protowire.Number, a Attributes) int {
	n := 0
	for i := range a {
		n += sizeBytes(num, keyValueSize(&a[i]))
	}
	return n
}

func keyValueSize(kv *KeyValue) int {
	n := 0
	if kv.Key != "" {
		n += sizeBytes(1, len(kv.Key))
	}
	return n + sizeBytes(2, anyValueSize(kv.Value))
}

func anyValueSize(v Value) int {
	switch v.Kind() {
	case ValueString:
		return sizeBytes(1, len(v.s()))
	case ValueBool:
		return protowire.SizeTag(2) + 1
	case ValueInt:
		return protowire.SizeTag(3) + protowire.SizeVarint(v.n)
	case ValueDouble:
		return protowire.SizeTag(4) + 8
	case ValueArray:
		n := 0
		for _, e := range v.Array() {
			n += sizeBytes(1, anyValueSize(e))
		}
		return sizeBytes(5, n)
	case ValueMap:
		return sizeBytes(6, attrsSize(1, v.Map()))
	case ValueBytes:
		return sizeBytes(7, len(v.s()))
	}
	return 0
}

func (e *protoEncoder) resourceLogs(rl *ResourceLogs) {
	e.resource(rl.Resource)
	k := 0
	for i := range rl.ScopeLogs {
		sl := &rl.ScopeLogs[i]
		e.buf = protowire.AppendTag(e.buf, 2, protowire.BytesType)
		e.buf = protowire.AppendVarint(e.buf, uint64(e.scopeLogsSize(sl, k)))
		e.scope(sl.Scope)
		for _, ev := range sl.Events {
			e.buf = protowire.AppendTag(e.buf, 2, protowire.BytesType)
			e.buf = protowire.AppendVarint(e.buf, uint64(e.sizes[k]))
			e.record(ev.EventRecord(), e.attrs[k])
			k++
		}
		if sl.SchemaURL != "" {
			e.str(3, sl.SchemaURL)
		}
	}
	if rl.SchemaURL != "" {
		e.str(3, rl.SchemaURL)
	}
}

// resource writes r as field 1 of a ResourceLogs or ResourceMetrics; nil writes nothing.
func (e *protoEncoder) resource(r *Resource) {
	if r == nil {
		return
	}
	e.buf = protowire.AppendTag(e.buf, 1, protowire.BytesType)
	e.buf = protowire.AppendVarint(e.buf, uint64(resourceSize(r)))
	e.attributes(1, r.Attrs)
	e.buf = protowire.AppendTag(e.buf, 2, protowire.VarintType)
	e.buf = protowire.AppendVarint(e.buf, uint64(r.DroppedAttributesCount))
}

// scope writes s as field 1 of a ScopeLogs or ScopeMetrics; nil writes nothing.
func (e *protoEncoder) scope(s *Scope) {
	if s == nil {
		return
	}
	e.buf = protowire.AppendTag(e.buf, 1, protowire.BytesType)
	e.buf = protowire.AppendVarint(e.buf, uint64(scopeSize(s)))
	if s.Name != "" {
		e.str(1, s.Name)
	}
	if s.Version != "" {
		e.str(2, s.Version)
	}
	e.attributes(3, s.Attrs)
	if s.DroppedAttributesCount != 0 {
		e.buf = protowire.AppendTag(e.buf, 4, protowire.VarintType)
		e.buf = protowire.AppendVarint(e.buf, uint64(s.DroppedAttributesCount))
	}
}

func (e *protoEncoder) record(r *Record, attrs Attributes) {
	if r.TimeUnixNano != 0 {
		e.buf = protowire.AppendTag(e.buf, 1, protowire.Fixed64Type)
		e.buf = protowire.AppendFixed64(e.buf, r.TimeUnixNano)
	}
	if r.SeverityNumber != 0 {
		e.buf = protowire.AppendTag(e.buf, 2, protowire.VarintType)
		e.buf = protowire.AppendVarint(e.buf, uint64(int64(r.SeverityNumber)))
	}
	if r.SeverityText != "" {
		e.str(3, r.SeverityText)
	}
	if body := recordBody(r, attrs); !body.IsEmpty() {
		e.buf = protowire.AppendTag(e.buf, 5, protowire.BytesType)
		e.buf = protowire.AppendVarint(e.buf, uint64(anyValueSize(body)))
		e.anyValue(body)
	}
	e.attributes(6, attrs)
	e.buf = protowire.AppendTag(e.buf, 7, protowire.VarintType)
	e.buf = protowire.AppendVarint(e.buf, uint64(r.DroppedAttributesCount))
	if r.Flags != 0 {
		e.buf = protowire.AppendTag(e.buf, 8, protowire.Fixed32Type)
		e.buf = protowire.AppendFixed32(e.buf, r.Flags)
	}
	if !r.TraceID.IsZero() {
		e.buf = protowire.AppendTag(e.buf, 9, protowire.BytesType)
		e.buf = protowire.AppendBytes(e.buf, r.TraceID[:])
	}
	if !r.SpanID.IsZero() {
		e.buf = protowire.AppendTag(e.buf, 10, protowire.BytesType)
		e.buf = protowire.AppendBytes(e.buf, r.SpanID[:])
	}
	if r.ObservedTimeUnixNano != 0 {
		e.buf = protowire.AppendTag(e.buf, 11, protowire.Fixed64Type)
		e.buf = protowire.AppendFixed64(e.buf, r.ObservedTimeUnixNano)
	}
	if r.WireEventName != "" {
		e.str(12, r.WireEventName)
	}
}

func (e *protoEncoder) attributes(num protowire.Number, a Attributes) {
	// The common shape grows the output in a local slice, stored back into e for the others:
	// a store of the slice into *e (the heap) pays a write barrier while the garbage collector
	// marks, and this loop runs for every attribute of every record.
	b := e.buf
	for i := range a {
		kv := &a[i]
		// The common shape, a key and a short string, written in one go: every length takes
		// one byte, and the tags are constants.
		if k, v := kv.Key, kv.Value; v.Kind() == ValueString && num < 16 && k != "" {
			if s := v.s(); len(k)+len(s) <= 121 && fastutf8.Valid(k) && fastutf8.Valid(s) {
				b = append(b, byte(num)<<3|2, byte(len(k)+len(s)+6), 0x0a, byte(len(k)))
				b = append(b, k...)
				b = append(b, 0x12, byte(len(s)+2), 0x0a, byte(len(s)))
				b = append(b, s...)
				continue
			}
		}
		vs := anyValueSize(kv.Value)
		n := sizeBytes(2, vs)
		if kv.Key != "" {
			n += sizeBytes(1, len(kv.Key))
		}
		e.buf = protowire.AppendTag(b, num, protowire.BytesType)
		e.buf = protowire.AppendVarint(e.buf, uint64(n))
		if kv.Key != "" {
			e.str(1, kv.Key)
		}
		e.buf = protowire.AppendTag(e.buf, 2, protowire.BytesType)
		e.buf = protowire.AppendVarint(e.buf, uint64(vs))
		e.anyValue(kv.Value)
		b = e.buf
	}
	e.buf = b
}

func (e *protoEncoder) anyValue(v Value) {
	switch v.Kind() {
	case ValueString:
		e.str(1, v.s())
	case ValueBool:
		e.buf = protowire.AppendTag(e.buf, 2, protowire.VarintType)
		e.buf = protowire.AppendVarint(e.buf, v.n&1)
	case ValueInt:
		e.buf = protowire.AppendTag(e.buf, 3, protowire.VarintType)
		e.buf = protowire.AppendVarint(e.buf, v.n)
	case ValueDouble:
		e.buf = protowire.AppendTag(e.buf, 4, protowire.Fixed64Type)
		e.buf = protowire.AppendFixed64(e.buf, v.n)
	case ValueArray:
		arr := v.Array()
		n := 0
		for _, x := range arr {
			n += sizeBytes(1, anyValueSize(x))
		}
		e.buf = protowire.AppendTag(e.buf, 5, protowire.BytesType)
		e.buf = protowire.AppendVarint(e.buf, uint64(n))
		for _, x := range arr {
			e.buf = protowire.AppendTag(e.buf, 1, protowire.BytesType)
			e.buf = protowire.AppendVarint(e.buf, uint64(anyValueSize(x)))
			e.anyValue(x)
		}
	case ValueMap:
		kvs := v.Map()
		e.buf = protowire.AppendTag(e.buf, 6, protowire.BytesType)
		e.buf = protowire.AppendVarint(e.buf, uint64(attrsSize(1, kvs)))
		e.attributes(1, kvs)
	case ValueBytes:
		e.buf = protowire.AppendTag(e.buf, 7, protowire.BytesType)
		e.buf = protowire.AppendString(e.buf, v.s())
	}
}

// AppendLogsJSON appends l to dst as OTLP/JSON the way Claude Code writes it: lowerCamelCase
// keys, *UnixNano as strings, intValue as a JSON number (a string with IntAsString),
// droppedAttributesCount always written on resources and records. A request Claude Code wrote
// re-encodes to the same bytes. Strings that are not valid UTF-8 are written with U+FFFD.
func (o EncodeOptions) AppendLogsJSON(dst []byte, l *Logs) ([]byte, error) {
	b := append(dst, `{"resourceLogs":[`...)
	for i := range l.ResourceLogs {
		rl := &l.ResourceLogs[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		if rl.Resource != nil {
			b = append(b, `"resource":`...)
			b = o.resourceJSON(b, rl.Resource)
			b = append(b, ',')
		}
		b = append(b, `"scopeLogs":[`...)
		for j := range rl.ScopeLogs {
			sl := &rl.ScopeLogs[j]
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, '{')
			if sl.Scope != nil {
				b = append(b, `"scope":`...)
				b = o.scopeJSON(b, sl.Scope)
				b = append(b, ',')
			}
			b = append(b, `"logRecords":[`...)
			for k, ev := range sl.Events {
				if k > 0 {
					b = append(b, ',')
				}
				b = o.recordJSON(b, ev)
			}
			b = append(b, ']')
			if sl.SchemaURL != "" {
				b = append(b, `,"schemaUrl":`...)
				b = appendJSONString(b, sl.SchemaURL)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
		if rl.SchemaURL != "" {
			b = append(b, `,"schemaUrl":`...)
			b = appendJSONString(b, rl.SchemaURL)
		}
		b = append(b, '}')
	}
	return append(b, "]}"...), nil
}

func (o EncodeOptions) resourceJSON(b []byte, r *Resource) []byte {
	b = append(b, `{"attributes":`...)
	b = o.attrsJSON(b, r.Attrs)
	b = append(b, `,"droppedAttributesCount":`...)
	b = strconv.AppendUint(b, uint64(r.DroppedAttributesCount), 10)
	return append(b, '}')
}

func (o EncodeOptions) scopeJSON(b []byte, s *Scope) []byte {
	b = append(b, '{')
	sep := false
	field := func(name string) {
		if sep {
			b = append(b, ',')
		}
		sep = true
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, `":`...)
	}
	if s.Name != "" {
		field("name")
		b = appendJSONString(b, s.Name)
	}
	if s.Version != "" {
		field("version")
		b = appendJSONString(b, s.Version)
	}
	if len(s.Attrs) > 0 {
		field("attributes")
		b = o.attrsJSON(b, s.Attrs)
	}
	if s.DroppedAttributesCount != 0 {
		field("droppedAttributesCount")
		b = strconv.AppendUint(b, uint64(s.DroppedAttributesCount), 10)
	}
	return append(b, '}')
}

func (o EncodeOptions) recordJSON(b []byte, ev Event) []byte {
	r := ev.EventRecord()
	attrs := AttributesOf(ev)
	b = append(b, '{')
	n := len(b)
	sep := func() {
		if len(b) > n {
			b = append(b, ',')
		}
	}
	if r.TimeUnixNano != 0 {
		b = append(b, `"timeUnixNano":"`...)
		b = strconv.AppendUint(b, r.TimeUnixNano, 10)
		b = append(b, '"')
	}
	if r.ObservedTimeUnixNano != 0 {
		sep()
		b = append(b, `"observedTimeUnixNano":"`...)
		b = strconv.AppendUint(b, r.ObservedTimeUnixNano, 10)
		b = append(b, '"')
	}
	if r.SeverityNumber != 0 {
		sep()
		b = append(b, `"severityNumber":`...)
		b = strconv.AppendInt(b, int64(r.SeverityNumber), 10)
	}
	if r.SeverityText != "" {
		sep()
		b = append(b, `"severityText":`...)
		b = appendJSONString(b, r.SeverityText)
	}
	if body := recordBody(r, attrs); !body.IsEmpty() {
		sep()
		b = append(b, `"body":`...)
		b = o.valueJSON(b, body)
	}
	sep()
	b = append(b, `"attributes":`...)
	b = o.attrsJSON(b, attrs)
	b = append(b, `,"droppedAttributesCount":`...)
	b = strconv.AppendUint(b, uint64(r.DroppedAttributesCount), 10)
	if r.Flags != 0 {
		b = append(b, `,"flags":`...)
		b = strconv.AppendUint(b, uint64(r.Flags), 10)
	}
	if !r.TraceID.IsZero() {
		b = append(b, `,"traceId":"`...)
		b = hex.AppendEncode(b, r.TraceID[:])
		b = append(b, '"')
	}
	if !r.SpanID.IsZero() {
		b = append(b, `,"spanId":"`...)
		b = hex.AppendEncode(b, r.SpanID[:])
		b = append(b, '"')
	}
	if r.WireEventName != "" {
		b = append(b, `,"eventName":`...)
		b = appendJSONString(b, r.WireEventName)
	}
	return append(b, '}')
}

func (o EncodeOptions) attrsJSON(b []byte, a Attributes) []byte {
	b = append(b, '[')
	for i := range a {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"key":`...)
		b = appendJSONString(b, a[i].Key)
		b = append(b, `,"value":`...)
		b = o.valueJSON(b, a[i].Value)
		b = append(b, '}')
	}
	return append(b, ']')
}

func (o EncodeOptions) valueJSON(b []byte, v Value) []byte {
	switch v.Kind() {
	case ValueString:
		b = append(b, `{"stringValue":`...)
		b = appendJSONString(b, v.s())
	case ValueBool:
		if v.n != 0 {
			return append(b, `{"boolValue":true}`...)
		}
		return append(b, `{"boolValue":false}`...)
	case ValueInt:
		b = append(b, `{"intValue":`...)
		if o.IntAsString {
			b = append(b, '"')
			b = strconv.AppendInt(b, int64(v.n), 10)
			b = append(b, '"')
		} else {
			b = strconv.AppendInt(b, int64(v.n), 10)
		}
	case ValueDouble:
		b = append(b, `{"doubleValue":`...)
		b = appendJSONFloat(b, math.Float64frombits(v.n))
	case ValueArray:
		b = append(b, `{"arrayValue":{"values":[`...)
		for i, e := range v.Array() {
			if i > 0 {
				b = append(b, ',')
			}
			b = o.valueJSON(b, e)
		}
		return append(b, "]}}"...)
	case ValueMap:
		b = append(b, `{"kvlistValue":{"values":`...)
		b = o.attrsJSON(b, v.Map())
		return append(b, "}}"...)
	case ValueBytes:
		b = append(b, `{"bytesValue":"`...)
		b = base64.StdEncoding.AppendEncode(b, []byte(v.s()))
		b = append(b, '"')
	default:
		return append(b, "{}"...)
	}
	return append(b, '}')
}

// appendJSONFloat writes f as JavaScript does (shortest round-trip form, exponent only outside
// [1e-6, 1e21)), and NaN and infinities as the proto3 JSON strings.
func appendJSONFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	abs := math.Abs(f)
	fmtc := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		fmtc = 'e'
	}
	b = strconv.AppendFloat(b, f, fmtc, -1, 64)
	if fmtc == 'e' {
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendJSONString writes s as a JSON string the way Claude Code does.
func appendJSONString(b []byte, s string) []byte { return jsonstr.Append(b, s) }
