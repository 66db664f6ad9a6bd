package collector

import (
	"encoding/base64"
	"math"
	"strconv"
	"time"
	"unsafe"

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
	var b [len(timeLayout)]byte
	return string(appendTime(b[:0], t))
}

// appendTime appends t (not zero) as timeLayout does, without time.Format's parsing of the
// layout: the store formats one time per event. Years outside 0–9999 take Format's path.
func appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return t.AppendFormat(b, timeLayout)
	}
	h, mi, s := t.Clock()
	ms := t.Nanosecond() / int(time.Millisecond)
	return append(b,
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+mo/10), byte('0'+mo%10), '-', byte('0'+d/10), byte('0'+d%10), 'T',
		byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':',
		byte('0'+s/10), byte('0'+s%10), '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
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

// rowBytesHint is the room newEventRows gives each event when the caller has no better
// guess: about what a redacted event's time and attribute JSON take.
const rowBytesHint = 1024

// The most room newEventRows reserves before writing: per event (a request of small events
// after one of a few large ones) and per request. Past them the buffer grows as it needs.
const (
	maxRowBytesHint = 16 << 10
	maxRowBuffer    = 8 << 20
)

// rowBufferSize is the room newEventRows reserves for n events of about perEvent bytes.
func rowBufferSize(n, perEvent int) int {
	if perEvent <= 0 {
		perEvent = rowBytesHint
	}
	perEvent = min(perEvent, maxRowBytesHint)
	if n > maxRowBuffer/perEvent {
		return maxRowBuffer
	}
	return n * perEvent
}

// newEventRows returns the rows of a request's events, with room for perEvent bytes of time
// and attribute JSON each (0: rowBytesHint; bounded by rowBufferSize) to start with, and the
// bytes per event they took, the next request's guess (rowBytesHint when there are none).
// Their time and attributes strings share one buffer, written once and never changed after:
// one allocation per request instead of two per event (which were the collector's largest
// source of garbage). The rows keep the whole buffer alive until the
// last of them is dropped, which is when the request is done.
func newEventRows(evs []telemetry.Event, perEvent int) ([]eventRow, int) {
	rows := make([]eventRow, len(evs))
	// ends[i] holds where row i's time and attributes end in buf; each starts where the
	// previous part ended.
	ends := make([][2]int, len(evs))
	buf := make([]byte, 0, rowBufferSize(len(evs), perEvent))
	for i, ev := range evs {
		r := ev.EventRecord()
		rows[i] = eventRow{
			idx: i, session: r.SessionID, prompt: r.PromptID, name: ev.Name(), seq: r.Sequence,
			tun: int64(r.TimeUnixNano), account: r.AccountUUID, email: r.UserEmail,
		}
		if t := r.Time(); !t.IsZero() {
			buf = appendTime(buf, t)
		}
		ends[i][0] = len(buf)
		attrs := telemetry.AttributesOf(ev)
		buf = appendAttrsJSON(buf, attrs)
		ends[i][1] = len(buf)
		if !attrs.Has(telemetry.KeySequence) {
			rows[i].seq, rows[i].chash = -1, int64(fnv1a(fnvOffset, buf[ends[i][0]:])&math.MaxInt64)
		}
	}
	s := unsafe.String(unsafe.SliceData(buf), len(buf))
	start := 0
	for i := range rows {
		rows[i].time, rows[i].attributes = s[start:ends[i][0]], s[ends[i][0]:ends[i][1]]
		start = ends[i][1]
	}
	if len(evs) == 0 {
		return rows, rowBytesHint
	}
	return rows, len(buf)/len(evs) + 1
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
