package emit

import (
	"time"

	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"

	"github.com/coworkgov/cowork/telemetry"
)

// value converts a telemetry value to the SDK's, keeping its kind: a string "49" stays a
// string, an int an int, an empty array an empty array.
func value(v telemetry.Value) attribute.Value {
	switch v.Kind() {
	case telemetry.ValueString:
		return attribute.StringValue(v.Str())
	case telemetry.ValueBool:
		return attribute.BoolValue(v.BoolRaw())
	case telemetry.ValueInt:
		return attribute.Int64Value(v.IntRaw())
	case telemetry.ValueDouble:
		return attribute.Float64Value(v.DoubleRaw())
	case telemetry.ValueBytes:
		return attribute.ByteSliceValue([]byte(v.Str()))
	case telemetry.ValueArray:
		elems := v.Array()
		out := make([]attribute.Value, len(elems))
		for i, e := range elems {
			out[i] = value(e)
		}
		return attribute.SliceValue(out...)
	case telemetry.ValueMap:
		return attribute.MapValue(keyValues(v.Map())...)
	}
	return attribute.Value{}
}

func keyValues(kvs []telemetry.KeyValue) []attribute.KeyValue {
	out := make([]attribute.KeyValue, len(kvs))
	for i, kv := range kvs {
		out[i] = attribute.KeyValue{Key: attribute.Key(kv.Key), Value: value(kv.Value)}
	}
	return out
}

// record builds the SDK log record of ev: its timestamps (TimeUnixNano, else event.timestamp,
// else now), its body (claude_code.<name> unless the event has its own), severity, and every
// attribute of telemetry.AttributesOf in order.
func record(ev telemetry.Event, now func() time.Time) otellog.Record {
	r := ev.EventRecord()
	var rec otellog.Record
	var ts time.Time
	switch {
	case r.TimeUnixNano != 0:
		ts = time.Unix(0, int64(r.TimeUnixNano)).UTC()
	case !r.Timestamp.IsZero():
		ts = r.Timestamp
	default:
		ts = now()
	}
	obs := ts
	if r.ObservedTimeUnixNano != 0 {
		obs = time.Unix(0, int64(r.ObservedTimeUnixNano)).UTC()
	}
	rec.SetTimestamp(ts)
	rec.SetObservedTimestamp(obs)
	body := r.Body
	if body.IsEmpty() {
		body = telemetry.String(telemetry.BodyPrefix + ev.Name())
	}
	rec.SetBody(value(body))
	if r.SeverityNumber != 0 {
		rec.SetSeverity(otellog.Severity(r.SeverityNumber))
	}
	if r.SeverityText != "" {
		rec.SetSeverityText(r.SeverityText)
	}
	if r.WireEventName != "" {
		rec.SetEventName(r.WireEventName)
	}
	rec.AddAttributes(keyValues(telemetry.AttributesOf(ev))...)
	return rec
}
