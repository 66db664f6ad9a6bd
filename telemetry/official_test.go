package telemetry_test

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/coworkgov/cowork/internal/corpus"
	"github.com/coworkgov/cowork/telemetry"
)

// FuzzDecodeLogsProtoOfficial decodes the same bytes with the decoder and with the generated
// OTLP types (google.golang.org/protobuf): when the official decoder accepts a request and
// the decoder reports no error, both read the same resources, scopes and records, field by
// field; when the official decoder refuses it, the decoder reports an error too.
func FuzzDecodeLogsProtoOfficial(f *testing.F) {
	seedCorpus(f, corpus.Protobuf, "logs")
	f.Fuzz(func(t *testing.T, b []byte) {
		var req collogspb.ExportLogsServiceRequest
		offErr := proto.Unmarshal(b, &req)
		ours, err := telemetry.DecodeLogsProto(b)
		if offErr != nil {
			if err == nil {
				t.Fatalf("the official decoder refuses the request (%v), the decoder reports nothing", offErr)
			}
			return
		}
		if err != nil {
			// The official decoder reads a known field of the wrong wire type as an unknown
			// field, and drops it; the decoder reports the record malformed instead. Any other
			// error is a request the decoder fails to read.
			for _, de := range telemetry.DecodeErrors(err) {
				if !strings.Contains(de.Err.Error(), "wire type") {
					t.Fatalf("the official decoder reads the request, the decoder reports %v", de)
				}
			}
			return
		}
		if d := diffLogs(&req, ours); d != "" {
			t.Fatalf("the decoders disagree: %s", d)
		}
	})
}

// TestDecodeMatchesOfficial runs the comparison of FuzzDecodeLogsProtoOfficial over the corpus.
func TestDecodeMatchesOfficial(t *testing.T) {
	for _, f := range corpus.Files(corpus.Protobuf) {
		if f.Signal != "logs" {
			continue
		}
		var req collogspb.ExportLogsServiceRequest
		if err := proto.Unmarshal(f.Data, &req); err != nil {
			t.Fatalf("%s: %v", f.Path(), err)
		}
		if d := diffLogs(&req, decodeLogs(t, f)); d != "" {
			t.Errorf("%s: %s", f.Path(), d)
		}
	}
}

// diffLogs returns where l differs from req, or "".
func diffLogs(req *collogspb.ExportLogsServiceRequest, l *telemetry.Logs) string {
	if len(req.ResourceLogs) != len(l.ResourceLogs) {
		return fmt.Sprintf("%d resourceLogs, want %d", len(l.ResourceLogs), len(req.ResourceLogs))
	}
	for i, prl := range req.ResourceLogs {
		rl := &l.ResourceLogs[i]
		at := fmt.Sprintf("resourceLogs[%d]", i)
		if rl.SchemaURL != prl.SchemaUrl {
			return at + ".schemaUrl"
		}
		pres := prl.GetResource() // nil when absent: its getters return zero values
		if d := diffAttrs(pres.GetAttributes(), rl.Resource.Attrs); d != "" {
			return at + ".resource.attributes" + d
		}
		if rl.Resource.DroppedAttributesCount != pres.GetDroppedAttributesCount() {
			return at + ".resource.droppedAttributesCount"
		}
		if len(rl.ScopeLogs) != len(prl.ScopeLogs) {
			return fmt.Sprintf("%s: %d scopeLogs, want %d", at, len(rl.ScopeLogs), len(prl.ScopeLogs))
		}
		for j, psl := range prl.ScopeLogs {
			sl := &rl.ScopeLogs[j]
			at := fmt.Sprintf("%s.scopeLogs[%d]", at, j)
			if sl.SchemaURL != psl.SchemaUrl {
				return at + ".schemaUrl"
			}
			ps := psl.GetScope()
			if sl.Scope.Name != ps.GetName() || sl.Scope.Version != ps.GetVersion() || sl.Scope.DroppedAttributesCount != ps.GetDroppedAttributesCount() {
				return at + ".scope"
			}
			if d := diffAttrs(ps.GetAttributes(), sl.Scope.Attrs); d != "" {
				return at + ".scope.attributes" + d
			}
			if len(sl.Events) != len(psl.LogRecords) {
				return fmt.Sprintf("%s: %d logRecords, want %d", at, len(sl.Events), len(psl.LogRecords))
			}
			for k, pr := range psl.LogRecords {
				r := sl.Events[k].EventRecord()
				at := fmt.Sprintf("%s.logRecords[%d]", at, k)
				switch {
				case r.TimeUnixNano != pr.TimeUnixNano:
					return at + ".timeUnixNano"
				case r.ObservedTimeUnixNano != pr.ObservedTimeUnixNano:
					return at + ".observedTimeUnixNano"
				case r.SeverityNumber != int32(pr.SeverityNumber):
					return at + ".severityNumber"
				case r.SeverityText != pr.SeverityText:
					return at + ".severityText"
				case !sameValue(pr.Body, r.Body):
					return fmt.Sprintf("%s.body: %v, want %v", at, r.Body, pr.Body)
				case r.DroppedAttributesCount != pr.DroppedAttributesCount:
					return at + ".droppedAttributesCount"
				case r.Flags != pr.Flags:
					return at + ".flags"
				case !sameID(r.TraceID[:], pr.TraceId):
					return at + ".traceId"
				case !sameID(r.SpanID[:], pr.SpanId):
					return at + ".spanId"
				case r.WireEventName != pr.EventName:
					return at + ".eventName"
				}
				if d := diffAttrs(pr.Attributes, r.Attrs); d != "" {
					return at + ".attributes" + d
				}
			}
		}
	}
	return ""
}

func sameID(ours, official []byte) bool {
	if len(official) == 0 {
		return bytes.Equal(ours, make([]byte, len(ours)))
	}
	return bytes.Equal(ours, official)
}

func diffAttrs(pkvs []*commonpb.KeyValue, kvs telemetry.Attributes) string {
	if len(pkvs) != len(kvs) {
		return fmt.Sprintf(": %d, want %d", len(kvs), len(pkvs))
	}
	for i, pkv := range pkvs {
		if kvs[i].Key != pkv.Key || !sameValue(pkv.Value, kvs[i].Value) {
			return fmt.Sprintf("[%d] %q=%v, want %q=%v", i, kvs[i].Key, kvs[i].Value, pkv.Key, pkv.Value)
		}
	}
	return ""
}

func sameValue(pv *commonpb.AnyValue, v telemetry.Value) bool {
	if pv == nil || pv.Value == nil {
		return v.Kind() == telemetry.ValueEmpty
	}
	switch x := pv.Value.(type) {
	case *commonpb.AnyValue_StringValue:
		return v.Kind() == telemetry.ValueString && v.Str() == x.StringValue
	case *commonpb.AnyValue_BoolValue:
		return v.Kind() == telemetry.ValueBool && v.BoolRaw() == x.BoolValue
	case *commonpb.AnyValue_IntValue:
		return v.Kind() == telemetry.ValueInt && v.IntRaw() == x.IntValue
	case *commonpb.AnyValue_DoubleValue:
		return v.Kind() == telemetry.ValueDouble && math.Float64bits(v.DoubleRaw()) == math.Float64bits(x.DoubleValue)
	case *commonpb.AnyValue_BytesValue:
		return v.Kind() == telemetry.ValueBytes && v.Str() == string(x.BytesValue)
	case *commonpb.AnyValue_ArrayValue:
		vs := v.Array()
		if v.Kind() != telemetry.ValueArray || len(vs) != len(x.ArrayValue.GetValues()) {
			return false
		}
		for i, pe := range x.ArrayValue.GetValues() {
			if !sameValue(pe, vs[i]) {
				return false
			}
		}
		return true
	case *commonpb.AnyValue_StringValueStrindex:
		// An index into the string table of a profiles dictionary (OTLP 1.10, alpha), which
		// logs have none of: the decoder does not read it.
		return true
	case *commonpb.AnyValue_KvlistValue:
		return v.Kind() == telemetry.ValueMap && diffAttrs(x.KvlistValue.GetValues(), v.Map()) == ""
	}
	return false
}

// TestDecodeWrongWireType checks that a LogRecord field the decoder reads, sent with another
// wire type, makes its record malformed, reported with the field's name, and leaves the
// record after it: read as if it had the right type, severity_number sent as fixed64 was the
// fixed64's value (found by FuzzDecodeLogsProtoOfficial), where protobuf's own decoders drop
// it without a word.
func TestDecodeWrongWireType(t *testing.T) {
	good := protowire.AppendFixed64(protowire.AppendTag(nil, 1, protowire.Fixed64Type), 1_700_000_000_000_000_000)
	for _, tt := range []struct {
		name string
		num  protowire.Number
		typ  protowire.Type
	}{
		{"time_unix_nano", 1, protowire.VarintType},
		{"severity_number", 2, protowire.Fixed64Type},
		{"severity_text", 3, protowire.VarintType},
		{"body", 5, protowire.Fixed32Type},
		{"attribute", 6, protowire.VarintType},
		{"dropped_attributes_count", 7, protowire.Fixed32Type},
		{"flags", 8, protowire.VarintType},
		{"trace_id", 9, protowire.Fixed64Type},
		{"span_id", 10, protowire.VarintType},
		{"observed_time_unix_nano", 11, protowire.BytesType},
		{"event_name", 12, protowire.Fixed32Type},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bad := protowire.AppendTag(nil, tt.num, tt.typ)
			switch tt.typ {
			case protowire.VarintType:
				bad = protowire.AppendVarint(bad, 5)
			case protowire.Fixed32Type:
				bad = protowire.AppendFixed32(bad, 5)
			case protowire.Fixed64Type:
				bad = protowire.AppendFixed64(bad, 5)
			case protowire.BytesType:
				bad = protowire.AppendString(bad, "x")
			}
			var sl []byte
			for _, rec := range [][]byte{bad, good} {
				sl = protowire.AppendBytes(protowire.AppendTag(sl, 2, protowire.BytesType), rec)
			}
			rl := protowire.AppendBytes(protowire.AppendTag(nil, 2, protowire.BytesType), sl)
			req := protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), rl)
			l, err := telemetry.DecodeLogsProto(req)
			des := telemetry.DecodeErrors(err)
			require.Len(t, des, 1)
			assert.Equal(t, 0, des[0].Record)
			assert.ErrorIs(t, des[0], telemetry.ErrMalformed)
			assert.Contains(t, des[0].Error(), tt.name+" wire type")
			require.Equal(t, 1, l.Len(), "the next record is kept")
			assert.Equal(t, uint64(1_700_000_000_000_000_000), l.Events()[0].EventRecord().TimeUnixNano)
		})
	}
}

// TestDecodeMergesRepeatedValues checks that an AnyValue field sent twice (a record's body, an
// attribute's value) reads as protobuf merges it, as the official decoder does: a second
// message without a field leaves the first value, arrays and kvlists add their elements, any
// other value replaces. The second, empty body of a record left it empty (found by
// FuzzDecodeLogsProtoOfficial).
func TestDecodeMergesRepeatedValues(t *testing.T) {
	msg := func(num protowire.Number, parts ...[]byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), bytes.Join(parts, nil))
	}
	str := func(num protowire.Number, s string) []byte { return msg(num, []byte(s)) }
	kv := func(k string, value ...[]byte) []byte { return msg(1, append([][]byte{str(1, k)}, value...)...) }
	values := map[string][][]byte{
		"string, then empty":          {msg(5, str(1, "claude_code.api_request")), msg(5)},
		"kvlist, then kvlist":         {msg(5, msg(6, kv("a", msg(2, str(1, "x"))))), msg(5, msg(6, kv("b", msg(2, str(1, "y")))))},
		"array, then array":           {msg(5, msg(5, msg(1, str(1, "x")))), msg(5, msg(5, msg(1, str(1, "y"))))},
		"array, then string":          {msg(5, msg(5, msg(1, str(1, "x")))), msg(5, str(1, "y"))},
		"attribute value, then empty": {msg(6, str(1, "k"), msg(2, str(1, "v")), msg(2))},
		"attribute kvlist twice":      {msg(6, str(1, "k"), msg(2, msg(6, kv("a"))), msg(2, msg(6, kv("b"))))},
	}
	for name, fields := range values {
		t.Run(name, func(t *testing.T) {
			req := msg(1, msg(2, msg(2, fields...)))
			var want collogspb.ExportLogsServiceRequest
			require.NoError(t, proto.Unmarshal(req, &want))
			got, err := telemetry.DecodeLogsProto(req)
			require.NoError(t, err)
			assert.Empty(t, diffLogs(&want, got))
		})
	}
}
