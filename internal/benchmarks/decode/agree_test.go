package decode

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/coworkgov/cowork/internal/corpus"
	"github.com/coworkgov/cowork/telemetry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// TestAgreeCorpus decodes every corpus log file with cowork and with pdata and requires the two
// results to be the same record for record, attribute for attribute, wire type included.
func TestAgreeCorpus(t *testing.T) {
	for _, f := range formats {
		files := corpus.Files(f.encoding())
		n := 0
		kinds := map[telemetry.ValueKind]int{}
		for _, file := range files {
			if file.Signal != "logs" {
				continue
			}
			n++
			t.Run(file.Path(), func(t *testing.T) {
				logs, ld := decodeBoth(t, f, file.Data)
				require.Positive(t, ld.LogRecordCount(), "a corpus log file without records")
				assert.Empty(t, diffLogs(logs, ld))
				for _, ev := range logs.Events() {
					for _, kv := range ev.EventRecord().Attrs {
						kinds[kv.Value.Kind()]++
					}
				}
			})
		}
		require.Positive(t, n, "no %s log files in the corpus", f)
		// The agreement covers every scalar kind and arrays, not only strings.
		for _, k := range []telemetry.ValueKind{telemetry.ValueString, telemetry.ValueInt, telemetry.ValueDouble, telemetry.ValueBool, telemetry.ValueArray} {
			assert.Positive(t, kinds[k], "%s: no %s attribute compared", f, k)
		}
	}
}

// TestAgreeBatch checks the large-batch input: pdata reads as many records from cowork's
// re-encoding as the corpus holds, and reads them the same way cowork does.
func TestAgreeBatch(t *testing.T) {
	want := corpusInput(t, formatProto).events + corpusInput(t, formatJSON).events
	require.GreaterOrEqual(t, want, 100, "the batch should be a large request")
	for _, f := range formats {
		t.Run("format="+string(f), func(t *testing.T) {
			in := batchInput(t, f)
			require.Len(t, in.bodies, 1)
			logs, ld := decodeBoth(t, f, in.bodies[0])
			assert.Equal(t, want, ld.LogRecordCount(), "pdata record count of the batch")
			assert.Equal(t, want, logs.Len(), "cowork record count of the batch")
			assert.Empty(t, diffLogs(logs, ld))
		})
	}
}

// TestDiffLogsDetects proves the comparison can fail: each mutation of cowork's result must be
// reported.
func TestDiffLogsDetects(t *testing.T) {
	file := firstLogFile(t, corpus.Protobuf)
	tests := []struct {
		name   string
		mutate func(t *testing.T, l *telemetry.Logs)
	}{
		{"attribute kind", func(t *testing.T, l *telemetry.Logs) {
			r := l.Events()[0].EventRecord()
			i := r.Attrs.Index(telemetry.KeySessionID)
			require.GreaterOrEqual(t, i, 0)
			r.Attrs[i].Value = telemetry.Strings(r.Attrs[i].Value.Str())
		}},
		{"attribute value", func(t *testing.T, l *telemetry.Logs) {
			r := l.Events()[0].EventRecord()
			r.Attrs[len(r.Attrs)-1].Value = telemetry.String("changed")
		}},
		{"attribute order", func(t *testing.T, l *telemetry.Logs) {
			r := l.Events()[0].EventRecord()
			require.GreaterOrEqual(t, len(r.Attrs), 2)
			r.Attrs[0], r.Attrs[1] = r.Attrs[1], r.Attrs[0]
		}},
		{"missing attribute", func(t *testing.T, l *telemetry.Logs) {
			r := l.Events()[0].EventRecord()
			r.Attrs = r.Attrs[:len(r.Attrs)-1]
		}},
		{"body", func(t *testing.T, l *telemetry.Logs) {
			l.Events()[0].EventRecord().Body = telemetry.Int(1)
		}},
		{"timestamp", func(t *testing.T, l *telemetry.Logs) {
			l.Events()[0].EventRecord().TimeUnixNano++
		}},
		{"observed timestamp", func(t *testing.T, l *telemetry.Logs) {
			l.Events()[0].EventRecord().ObservedTimeUnixNano++
		}},
		{"missing record", func(t *testing.T, l *telemetry.Logs) {
			sl := &l.ResourceLogs[0].ScopeLogs[0]
			sl.Events = sl.Events[1:]
		}},
		{"resource attribute", func(t *testing.T, l *telemetry.Logs) {
			res := l.ResourceLogs[0].Resource
			res.Attrs = append(res.Attrs[:len(res.Attrs):len(res.Attrs)], telemetry.KeyValue{Key: "extra", Value: telemetry.Bool(true)})
		}},
		{"scope version", func(t *testing.T, l *telemetry.Logs) {
			l.ResourceLogs[0].ScopeLogs[0].Scope.Version += "-x"
		}},
		{"nested value", func(t *testing.T, l *telemetry.Logs) {
			r := l.Events()[0].EventRecord()
			r.Attrs[0].Value = telemetry.Array(telemetry.Double(1.5), telemetry.Map(telemetry.KeyValue{Key: "k", Value: telemetry.Int(2)}))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs, ld := decodeBoth(t, formatProto, file.Data)
			require.Empty(t, diffLogs(logs, ld), "unmutated decodes must agree")
			tt.mutate(t, logs)
			assert.NotEmpty(t, diffLogs(logs, ld))
		})
	}
}

func firstLogFile(t *testing.T, enc corpus.Encoding) corpus.File {
	t.Helper()
	for _, f := range corpus.Files(enc) {
		if f.Signal == "logs" {
			return f
		}
	}
	t.Fatal("no log file in the corpus")
	return corpus.File{}
}

func decodeBoth(t *testing.T, f format, b []byte) (*telemetry.Logs, plog.Logs) {
	t.Helper()
	logs, err := decodeCowork(f, b)
	require.NoError(t, err, "cowork")
	ld, err := decodePdata(f, b)
	require.NoError(t, err, "pdata")
	return logs, ld
}

// diffLogs lists every difference between cowork's and pdata's reading of the same request;
// nil means they agree on every field cowork models.
func diffLogs(l *telemetry.Logs, ld plog.Logs) []string {
	var d differ
	rls := ld.ResourceLogs()
	d.eq("", "resourceLogs count", len(l.ResourceLogs), rls.Len())
	for ri := range min(len(l.ResourceLogs), rls.Len()) {
		rl, prl := l.ResourceLogs[ri], rls.At(ri)
		p := "resourceLogs[" + strconv.Itoa(ri) + "]"
		d.eq(p, "schemaUrl", rl.SchemaURL, prl.SchemaUrl())
		d.eq(p, "resource.droppedAttributesCount", rl.Resource.DroppedAttributesCount, prl.Resource().DroppedAttributesCount())
		d.attrs(p+".resource.attributes", rl.Resource.Attrs, prl.Resource().Attributes())
		sls := prl.ScopeLogs()
		d.eq(p, "scopeLogs count", len(rl.ScopeLogs), sls.Len())
		for si := range min(len(rl.ScopeLogs), sls.Len()) {
			sl, psl := rl.ScopeLogs[si], sls.At(si)
			p := p + ".scopeLogs[" + strconv.Itoa(si) + "]"
			d.eq(p, "schemaUrl", sl.SchemaURL, psl.SchemaUrl())
			d.eq(p, "scope.name", sl.Scope.Name, psl.Scope().Name())
			d.eq(p, "scope.version", sl.Scope.Version, psl.Scope().Version())
			d.eq(p, "scope.droppedAttributesCount", sl.Scope.DroppedAttributesCount, psl.Scope().DroppedAttributesCount())
			d.attrs(p+".scope.attributes", sl.Scope.Attrs, psl.Scope().Attributes())
			lrs := psl.LogRecords()
			d.eq(p, "logRecords count", len(sl.Events), lrs.Len())
			for li := range min(len(sl.Events), lrs.Len()) {
				d.record(p+".logRecords["+strconv.Itoa(li)+"]", sl.Events[li].EventRecord(), lrs.At(li))
			}
		}
	}
	return d.diffs
}

type differ struct{ diffs []string }

func (d *differ) addf(format string, args ...any) {
	d.diffs = append(d.diffs, fmt.Sprintf(format, args...))
}

func (d *differ) eq(path, field string, cowork, pdata any) {
	if cowork != pdata {
		d.addf("%s.%s: cowork %v, pdata %v", path, field, cowork, pdata)
	}
}

func (d *differ) record(p string, r *telemetry.Record, lr plog.LogRecord) {
	d.eq(p, "timeUnixNano", r.TimeUnixNano, uint64(lr.Timestamp()))
	d.eq(p, "observedTimeUnixNano", r.ObservedTimeUnixNano, uint64(lr.ObservedTimestamp()))
	d.eq(p, "severityNumber", r.SeverityNumber, int32(lr.SeverityNumber()))
	d.eq(p, "severityText", r.SeverityText, lr.SeverityText())
	d.eq(p, "droppedAttributesCount", r.DroppedAttributesCount, lr.DroppedAttributesCount())
	d.eq(p, "flags", r.Flags, uint32(lr.Flags()))
	d.eq(p, "traceId", [16]byte(r.TraceID), [16]byte(lr.TraceID()))
	d.eq(p, "spanId", [8]byte(r.SpanID), [8]byte(lr.SpanID()))
	d.eq(p, "eventName", r.WireEventName, lr.EventName())
	d.value(p+".body", r.Body, lr.Body())
	d.attrs(p+".attributes", r.Attrs, lr.Attributes())
}

// attrs compares attribute lists in wire order.
func (d *differ) attrs(p string, a telemetry.Attributes, m pcommon.Map) {
	d.eq(p, "count", len(a), m.Len())
	i := 0
	for k, v := range m.All() {
		if i >= len(a) {
			break
		}
		ip := p + "[" + strconv.Itoa(i) + "]"
		d.eq(ip, "key", a[i].Key, k)
		d.value(ip+"("+k+")", a[i].Value, v)
		i++
	}
}

// value compares a cowork value with a pdata value: the same kind and the same contents.
func (d *differ) value(p string, v telemetry.Value, pv pcommon.Value) {
	want := kindOf(pv.Type())
	if v.Kind() != want {
		d.addf("%s: cowork kind %s, pdata type %s", p, v.Kind(), pv.Type())
		return
	}
	switch want {
	case telemetry.ValueString:
		d.eq(p, "str", v.Str(), pv.Str())
	case telemetry.ValueInt:
		d.eq(p, "int", v.IntRaw(), pv.Int())
	case telemetry.ValueDouble:
		d.eq(p, "double", v.DoubleRaw(), pv.Double())
	case telemetry.ValueBool:
		d.eq(p, "bool", v.BoolRaw(), pv.Bool())
	case telemetry.ValueBytes:
		d.eq(p, "bytes", v.Str(), string(pv.Bytes().AsRaw()))
	case telemetry.ValueArray:
		arr, s := v.Array(), pv.Slice()
		d.eq(p, "len", len(arr), s.Len())
		for i := range min(len(arr), s.Len()) {
			d.value(p+"["+strconv.Itoa(i)+"]", arr[i], s.At(i))
		}
	case telemetry.ValueMap:
		d.attrs(p, telemetry.Attributes(v.Map()), pv.Map())
	}
}

// kindOf maps pdata's value types onto cowork's kinds; a type cowork lacks maps to an invalid
// kind, which no decoded value has.
func kindOf(t pcommon.ValueType) telemetry.ValueKind {
	switch t {
	case pcommon.ValueTypeEmpty:
		return telemetry.ValueEmpty
	case pcommon.ValueTypeStr:
		return telemetry.ValueString
	case pcommon.ValueTypeInt:
		return telemetry.ValueInt
	case pcommon.ValueTypeDouble:
		return telemetry.ValueDouble
	case pcommon.ValueTypeBool:
		return telemetry.ValueBool
	case pcommon.ValueTypeBytes:
		return telemetry.ValueBytes
	case pcommon.ValueTypeSlice:
		return telemetry.ValueArray
	case pcommon.ValueTypeMap:
		return telemetry.ValueMap
	}
	return telemetry.ValueKind(255)
}
