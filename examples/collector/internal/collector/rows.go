package collector

import (
	"encoding/base64"
	"math"
	"strconv"
	"time"

	"github.com/coworkgov/cowork/internal/jsonstr"
	"github.com/coworkgov/cowork/telemetry"
)

// timeLayout is how times are stored: UTC, fixed width, so text order is time order and
// sqlite3's date functions read it.
const timeLayout = "2006-01-02T15:04:05.000Z"

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

// eventRow is one event as the events table stores it.
type eventRow struct {
	idx        int
	session    string
	prompt     string
	name       string
	seq        int64 // -1 when the event has no event.sequence
	tun        int64
	chash      int64 // content hash when seq is -1, else 0: the dedup key of events without one
	ckey       int64 // its chain's number (events_key's first column), set by the writer
	time       string
	account    string
	email      string
	attributes string
}

func newEventRow(idx int, ev telemetry.Event, buf []byte) (eventRow, []byte) {
	r := ev.EventRecord()
	attrs := telemetry.AttributesOf(ev)
	buf = appendAttrsJSON(buf[:0], attrs)
	row := eventRow{
		idx: idx, session: r.SessionID, prompt: r.PromptID, name: ev.Name(), seq: r.Sequence,
		tun: int64(r.TimeUnixNano), time: fmtTime(r.Time()), account: r.AccountUUID, email: r.UserEmail,
		attributes: string(buf),
	}
	if !attrs.Has(telemetry.KeySequence) {
		row.seq, row.chash = -1, int64(fnv1a(fnvOffset, buf)&math.MaxInt64)
	}
	return row, buf
}

// chainHash hashes a chain's key (session, prompt): the ckey of events stored by builds
// before chain numbers (see numberChains), which their chains keep. Lookups also compare
// session_id and prompt_id, so a collision can never mix chains up.
func chainHash(session, prompt string) int64 {
	return int64(fnv1a(fnv1a(fnv1a(fnvOffset, session), "\x00"), prompt))
}

// FNV-1a, 64-bit (hash/fnv's New64a), on strings and byte slices without the allocations
// that hashing through hash.Hash costs: the stored ckey and chash values are FNV-1a's.
const (
	fnvOffset uint64 = 14695981039346656037
	fnvPrime  uint64 = 1099511628211
)

func fnv1a[T string | []byte](h uint64, s T) uint64 {
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h
}

// appendAttrsJSON writes attributes as one JSON object, key → value in wire order (a repeated
// key keeps its last value). Bytes become base64 strings.
func appendAttrsJSON(b []byte, attrs telemetry.Attributes) []byte {
	b = append(b, '{')
	for i, kv := range attrs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, kv.Key)
		b = append(b, ':')
		b = appendValueJSON(b, kv.Value, 0)
	}
	return append(b, '}')
}

const maxJSONDepth = 64

func appendValueJSON(b []byte, v telemetry.Value, depth int) []byte {
	if depth > maxJSONDepth {
		return append(b, "null"...)
	}
	switch v.Kind() {
	case telemetry.ValueString:
		return appendJSONString(b, v.Str())
	case telemetry.ValueBool:
		return strconv.AppendBool(b, v.BoolRaw())
	case telemetry.ValueInt:
		return strconv.AppendInt(b, v.IntRaw(), 10)
	case telemetry.ValueDouble:
		f := v.DoubleRaw()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return appendJSONString(b, strconv.FormatFloat(f, 'g', -1, 64))
		}
		return strconv.AppendFloat(b, f, 'g', -1, 64)
	case telemetry.ValueBytes:
		return appendJSONString(b, base64.StdEncoding.EncodeToString([]byte(v.Str())))
	case telemetry.ValueArray:
		b = append(b, '[')
		for i, e := range v.Array() {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendValueJSON(b, e, depth+1)
		}
		return append(b, ']')
	case telemetry.ValueMap:
		b = append(b, '{')
		for i, kv := range v.Map() {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, kv.Key)
			b = append(b, ':')
			b = appendValueJSON(b, kv.Value, depth+1)
		}
		return append(b, '}')
	}
	return append(b, "null"...)
}

// appendJSONString writes s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte { return jsonstr.Append(b, s) }

// pointRow is one metric data point as the metric_points table stores it.
type pointRow struct {
	name, time, session, account, attributes string
	tun                                      int64
	value                                    float64
}
