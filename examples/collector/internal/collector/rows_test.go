package collector

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/redact"
	"github.com/coworkgov/cowork/telemetry"
	"github.com/coworkgov/cowork/telemetry/telemetrytest"
)

// TestAppendTime checks the store's time formatter against time.Format with timeLayout, on
// the edges of every field and on random times, in other zones too.
func TestAppendTime(t *testing.T) {
	zone := time.FixedZone("X", -7*3600-30*60)
	times := []time.Time{
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(2026, 2, 28, 23, 30, 0, 1_000_000, zone), // the next day in UTC
		time.Date(9999, 12, 31, 23, 59, 59, 999_000_000, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), // Format's path
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 10_000 {
		times = append(times, time.Unix(0, r.Int64N(math.MaxInt64)).In(zone))
	}
	for _, tm := range times {
		require.Equal(t, tm.UTC().Format(timeLayout), string(appendTime(nil, tm)), "%v", tm)
		if !tm.IsZero() {
			require.Equal(t, tm.UTC().Format(timeLayout), fmtTime(tm))
		}
	}
	assert.Empty(t, fmtTime(time.Time{}))
	assert.Equal(t, "x2026-11-24T09:00:00.000Z", string(appendTime([]byte("x"), time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC))))
}

// TestNewEventRows checks each row of a request against its event: the columns, the time and
// attributes it takes from the shared buffer, and the content hash of events without a
// sequence (the same bytes as their attributes JSON alone would hash to).
func TestNewEventRows(t *testing.T) {
	ev := func(name string, seq int64, at time.Time, extra ...telemetry.KeyValue) telemetry.Event {
		e := telemetry.New(name)
		telemetry.Set(e, telemetry.KeySessionID, telemetry.String("s1"))
		telemetry.Set(e, telemetry.KeyPromptID, telemetry.String("p1"))
		telemetry.Set(e, telemetry.KeyUserEmail, telemetry.String("<email>"))
		if !at.IsZero() {
			telemetry.Set(e, telemetry.KeyTimestamp, telemetry.String(at.Format(time.RFC3339Nano)))
			e.EventRecord().TimeUnixNano = uint64(at.UnixNano())
		}
		if seq >= 0 {
			telemetry.Set(e, telemetry.KeySequence, telemetry.Int(seq))
		}
		for _, kv := range extra {
			telemetry.Set(e, kv.Key, kv.Value)
		}
		return e
	}
	at := time.Date(2026, 11, 24, 9, 0, 0, 123_456_789, time.UTC)
	evs := []telemetry.Event{
		ev(telemetry.NameUserPrompt, 1, at, telemetry.KeyValue{Key: "prompt", Value: telemetry.String("héllo \"x\"")}),
		ev(telemetry.NameToolResult, -1, at.Add(time.Second), telemetry.KeyValue{Key: "tool_name", Value: telemetry.String("Read")}),
		ev(telemetry.NameAPIRequest, 3, at.Add(2*time.Second), telemetry.KeyValue{Key: "cost_usd", Value: telemetry.Double(0.25)}),
		ev(telemetry.NameUserPrompt, 4, time.Time{}),
	}
	rows, _ := newEventRows(evs, 0)
	require.Len(t, rows, len(evs))
	for i, ev := range evs {
		r := ev.EventRecord()
		row := rows[i]
		assert.Equal(t, i, row.idx)
		assert.Equal(t, ev.Name(), row.name)
		assert.Equal(t, r.SessionID, row.session)
		assert.Equal(t, r.PromptID, row.prompt)
		assert.Equal(t, int64(r.TimeUnixNano), row.tun)
		assert.Equal(t, fmtTime(r.Time()), row.time, "row %d", i)
		js := string(appendAttrsJSON(nil, telemetry.AttributesOf(ev)))
		assert.Equal(t, js, row.attributes, "row %d", i)
		if telemetry.AttributesOf(ev).Has(telemetry.KeySequence) {
			assert.Equal(t, r.Sequence, row.seq)
			assert.Zero(t, row.chash)
		} else {
			assert.Equal(t, int64(-1), row.seq)
			assert.Equal(t, int64(fnv1a(fnvOffset, js)&math.MaxInt64), row.chash)
		}
	}
	assert.Empty(t, rows[3].time)
	assert.Equal(t, "2026-11-24T09:00:00.123Z", rows[0].time)
	empty, per := newEventRows(nil, 0)
	assert.Empty(t, empty)
	assert.Equal(t, rowBytesHint, per)
	// A guess from a request of huge events reserves no more than the bounds.
	big, _ := newEventRows(evs, math.MaxInt)
	assert.Equal(t, rows, big)
}

func TestRowBufferSize(t *testing.T) {
	for _, tc := range []struct{ n, per, want int }{
		{0, 0, 0},
		{10, 0, 10 * rowBytesHint},
		{10, -5, 10 * rowBytesHint},
		{10, 700, 7000},
		{10, math.MaxInt, 10 * maxRowBytesHint},
		{1 << 20, 1 << 20, maxRowBuffer},
		{math.MaxInt, 1, maxRowBuffer},
	} {
		assert.Equal(t, tc.want, rowBufferSize(tc.n, tc.per), "%d events of %d bytes", tc.n, tc.per)
	}
}

// BenchmarkEventRows measures building a request's rows (the time and attribute JSON of
// each event), which every request's handler does before the store sees it: a simulated
// fleet's redacted requests of 200 events.
func BenchmarkEventRows(b *testing.B) {
	o := telemetrytest.Realistic(1)
	o.Users, o.SessionsPerUser, o.PromptsPerSession, o.BatchSize = 20, 2, 10, 200
	e, err := redact.New(redact.Strict, redact.WithKey("k1", []byte("0123456789abcdef0123456789abcdef")))
	require.NoError(b, err)
	var reqs [][]telemetry.Event
	var events int
	for l := range telemetrytest.NewFleet(o).Batches() {
		e.Logs(l)
		reqs = append(reqs, l.Events())
		events += len(l.Events())
	}
	b.ReportAllocs()
	n, per := 0, 0
	for b.Loop() {
		for _, evs := range reqs {
			_, per = newEventRows(evs, per*9/8)
		}
		n += events
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}
