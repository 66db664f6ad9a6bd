package telemetry_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	"google.golang.org/protobuf/encoding/protojson"
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
		if d := diffResource(prl.GetResource(), rl.Resource); d != "" {
			return at + d
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
			if d := diffScope(psl.GetScope(), sl.Scope); d != "" {
				return at + d
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

// diffResource returns where r differs from pr (nil when absent: its getters return zero
// values), or "".
func diffResource(pr *resourcepb.Resource, r *telemetry.Resource) string {
	if d := diffAttrs(pr.GetAttributes(), r.Attrs); d != "" {
		return ".resource.attributes" + d
	}
	if r.DroppedAttributesCount != pr.GetDroppedAttributesCount() {
		return ".resource.droppedAttributesCount"
	}
	return ""
}

// diffScope returns where s differs from ps (nil when absent), or "".
func diffScope(ps *commonpb.InstrumentationScope, s *telemetry.Scope) string {
	if s.Name != ps.GetName() || s.Version != ps.GetVersion() || s.DroppedAttributesCount != ps.GetDroppedAttributesCount() {
		return ".scope"
	}
	if d := diffAttrs(ps.GetAttributes(), s.Attrs); d != "" {
		return ".scope.attributes" + d
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

// FuzzDecodeMetricsProtoOfficial is FuzzDecodeLogsProtoOfficial for metrics.
func FuzzDecodeMetricsProtoOfficial(f *testing.F) {
	seedCorpus(f, corpus.Protobuf, "metrics")
	f.Fuzz(func(t *testing.T, b []byte) {
		var req colmetricspb.ExportMetricsServiceRequest
		offErr := proto.Unmarshal(b, &req)
		ours, err := telemetry.DecodeMetricsProto(b)
		if offErr != nil {
			if err == nil && !hasOther(ours) {
				t.Fatalf("the official decoder refuses the request (%v), the decoder reports nothing", offErr)
			}
			return
		}
		if err != nil {
			t.Fatalf("the official decoder reads the request, the decoder reports %v", err)
		}
		if d := diffMetrics(&req, ours); d != "" {
			t.Fatalf("the decoders disagree: %s", d)
		}
	})
}

// hasOther reports whether m holds a metric of a type the decoder keeps as its raw bytes
// (histograms, summaries), unchecked.
func hasOther(m *telemetry.Metrics) bool {
	for _, rm := range m.ResourceMetrics {
		for _, sm := range rm.ScopeMetrics {
			for _, mt := range sm.Metrics {
				if mt.Type == telemetry.MetricTypeOther {
					return true
				}
			}
		}
	}
	return false
}

// diffMetrics returns where m differs from req, or "".
func diffMetrics(req *colmetricspb.ExportMetricsServiceRequest, m *telemetry.Metrics) string {
	if len(req.ResourceMetrics) != len(m.ResourceMetrics) {
		return fmt.Sprintf("%d resourceMetrics, want %d", len(m.ResourceMetrics), len(req.ResourceMetrics))
	}
	for i, prm := range req.ResourceMetrics {
		rm := &m.ResourceMetrics[i]
		at := fmt.Sprintf("resourceMetrics[%d]", i)
		if rm.SchemaURL != prm.SchemaUrl {
			return at + ".schemaUrl"
		}
		if d := diffResource(prm.GetResource(), rm.Resource); d != "" {
			return at + d
		}
		if len(rm.ScopeMetrics) != len(prm.ScopeMetrics) {
			return fmt.Sprintf("%s: %d scopeMetrics, want %d", at, len(rm.ScopeMetrics), len(prm.ScopeMetrics))
		}
		for j, psm := range prm.ScopeMetrics {
			sm := &rm.ScopeMetrics[j]
			at := fmt.Sprintf("%s.scopeMetrics[%d]", at, j)
			if sm.SchemaURL != psm.SchemaUrl {
				return at + ".schemaUrl"
			}
			if d := diffScope(psm.GetScope(), sm.Scope); d != "" {
				return at + d
			}
			if len(sm.Metrics) != len(psm.Metrics) {
				return fmt.Sprintf("%s: %d metrics, want %d", at, len(sm.Metrics), len(psm.Metrics))
			}
			for k, pmt := range psm.Metrics {
				if d := diffMetric(pmt, &sm.Metrics[k]); d != "" {
					return fmt.Sprintf("%s.metrics[%d]%s", at, k, d)
				}
			}
		}
	}
	return ""
}

func diffMetric(pmt *metricspb.Metric, mt *telemetry.Metric) string {
	if mt.Name != pmt.Name || mt.Description != pmt.Description || mt.Unit != pmt.Unit {
		return ": name, description or unit"
	}
	if d := diffAttrs(pmt.Metadata, mt.Metadata); d != "" {
		return ".metadata" + d
	}
	var points []*metricspb.NumberDataPoint
	switch data := pmt.Data.(type) {
	case *metricspb.Metric_Gauge:
		if mt.Type != telemetry.MetricTypeGauge {
			return fmt.Sprintf(": type %v, want gauge", mt.Type)
		}
		points = data.Gauge.GetDataPoints()
	case *metricspb.Metric_Sum:
		if mt.Type != telemetry.MetricTypeSum || int32(mt.Temporality) != int32(data.Sum.GetAggregationTemporality()) ||
			mt.Monotonic != data.Sum.GetIsMonotonic() {
			return fmt.Sprintf(": type %v (temporality %v, monotonic %v), want %v", mt.Type, mt.Temporality, mt.Monotonic, data.Sum)
		}
		points = data.Sum.GetDataPoints()
	case nil:
		if mt.Type != telemetry.MetricTypeUnknown {
			return fmt.Sprintf(": type %v, want none", mt.Type)
		}
	default:
		if mt.Type != telemetry.MetricTypeOther {
			return fmt.Sprintf(": type %v, want other", mt.Type)
		}
	}
	if len(mt.Points) != len(points) {
		return fmt.Sprintf(": %d points, want %d", len(mt.Points), len(points))
	}
	for i, pp := range points {
		p := &mt.Points[i]
		at := fmt.Sprintf(".points[%d]", i)
		if p.StartTimeUnixNano != pp.StartTimeUnixNano || p.TimeUnixNano != pp.TimeUnixNano || p.Flags != pp.Flags {
			return at + ": times or flags"
		}
		switch v := pp.Value.(type) {
		case *metricspb.NumberDataPoint_AsInt:
			if !p.IsInt || p.Int != v.AsInt {
				return at + ": as_int"
			}
		case *metricspb.NumberDataPoint_AsDouble:
			if p.IsInt || math.Float64bits(p.Value) != math.Float64bits(v.AsDouble) {
				return at + ": as_double"
			}
		case nil:
			if p.IsInt || p.Value != 0 {
				return at + ": no value"
			}
		}
		if d := diffAttrs(pp.Attributes, p.Attrs); d != "" {
			return at + ".attributes" + d
		}
	}
	return ""
}

// TestDecodeFieldNumberTooLarge checks that a field number above 2²⁹-1, which protobuf does not
// allow, is malformed (found by FuzzDecodeMetricsProtoOfficial: it was read as an unknown
// field and skipped).
func TestDecodeFieldNumberTooLarge(t *testing.T) {
	req := protowire.AppendFixed32(protowire.AppendVarint(nil, uint64(protowire.MaxValidNumber+1)<<3|uint64(protowire.Fixed32Type)), 7)
	_, err := telemetry.DecodeLogsProto(req)
	assert.ErrorIs(t, err, telemetry.ErrMalformed)
	_, err = telemetry.DecodeMetricsProto(req)
	assert.ErrorIs(t, err, telemetry.ErrMalformed)
	ok := protowire.AppendFixed32(protowire.AppendTag(nil, protowire.MaxValidNumber, protowire.Fixed32Type), 7)
	_, err = telemetry.DecodeLogsProto(ok)
	assert.NoError(t, err, "the largest field number is an unknown field, skipped")
}

// TestDecodeJSONMatchesOfficial runs the comparison of FuzzDecodeLogsJSONOfficial over the
// corpus, which protojson reads too.
func TestDecodeJSONMatchesOfficial(t *testing.T) {
	n := 0
	for _, f := range corpus.Files(corpus.JSON) {
		if f.Signal != "logs" {
			continue
		}
		var req collogspb.ExportLogsServiceRequest
		require.NoError(t, protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(f.Data, &req), f.Path())
		if d := diffLogsNoIDs(&req, decodeLogs(t, f)); d != "" {
			t.Errorf("%s: %s", f.Path(), d)
		}
		n++
	}
	require.Positive(t, n)
}

// diffLogsNoIDs is diffLogs without trace and span ids, which it clears in both.
func diffLogsNoIDs(req *collogspb.ExportLogsServiceRequest, l *telemetry.Logs) string {
	for _, rl := range req.ResourceLogs {
		for _, sl := range rl.ScopeLogs {
			for _, r := range sl.LogRecords {
				r.TraceId, r.SpanId = nil, nil
			}
		}
	}
	for _, ev := range l.Events() {
		r := ev.EventRecord()
		r.TraceID, r.SpanID = telemetry.TraceID{}, telemetry.SpanID{}
	}
	return diffLogs(req, l)
}

// FuzzDecodeLogsJSONOfficial is FuzzDecodeLogsProtoOfficial for OTLP/JSON, against protojson
// with the generated types: what protojson reads, the decoder reads (within its depth and
// size limits), and the same. OTLP/JSON writes trace and span ids in hex where protojson reads
// base64, so ids are not compared; protojson refuses some requests OTLP/JSON allows.
func FuzzDecodeLogsJSONOfficial(f *testing.F) {
	seedCorpus(f, corpus.JSON, "logs")
	f.Fuzz(func(t *testing.T, b []byte) {
		var req collogspb.ExportLogsServiceRequest
		offErr := protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(b, &req)
		ours, err := telemetry.DecodeLogsJSON(b)
		if offErr == nil && err != nil && !errors.Is(err, telemetry.ErrTooDeep) && !errors.Is(err, telemetry.ErrTooLarge) {
			t.Fatalf("protojson reads the request, the decoder reports %v", err)
		}
		if offErr != nil || err != nil {
			return
		}
		if d := diffLogsNoIDs(&req, ours); d != "" {
			t.Fatalf("the decoders disagree: %s", d)
		}
	})
}
