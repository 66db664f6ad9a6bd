package telemetry_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/telemetry"
)

// rejected sums what the decode errors of err made the decoder skip, as a receiver counts it.
func rejected(err error) int {
	n := 0
	for _, de := range telemetry.DecodeErrors(err) {
		n += de.Skipped()
	}
	return n
}

// skipWant is what decoding metrics a, b and c should give when b is bad: a and c have one
// good point each.
type skipWant struct {
	kept     int // of metric b's points
	rejected int
	path     string // the end of the first error's path
	record   int    // the first error's record
}

// check checks the decode of a, b and c, of total points in all, against w.
func (w skipWant) check(t *testing.T, m *telemetry.Metrics, err error, total int) {
	t.Helper()
	require.ErrorIs(t, err, telemetry.ErrMalformed)
	des := telemetry.DecodeErrors(err)
	require.NotEmpty(t, des)
	assert.Equal(t, w.record, des[0].Record)
	assert.True(t, strings.HasSuffix(des[0].Path, w.path), des[0].Path)
	assert.Equal(t, w.rejected, rejected(err))
	assert.Equal(t, 2+w.kept, m.Len(), "a's and c's points, and b's good ones")
	assert.Equal(t, total, m.Len()+rejected(err), "every point is kept or counted")
}

// TestMalformedMetricPointIsSkipped: a bad data point is reported and skipped, and the other
// points of its metric are kept; a problem in the metric itself drops the metric, and its one
// error counts every point dropped, so that a receiver's rejected count is what was lost.
func TestMalformedMetricPointIsSkipped(t *testing.T) {
	t.Run("json", func(t *testing.T) {
		pt := func(v string) string { return `{"asInt":` + v + `,"timeUnixNano":"1"}` }
		for _, tc := range []struct {
			name   string
			metric string
			skipWant
		}{
			{"bad point", `{"name":"b","sum":{"dataPoints":[` + pt(`"1"`) + `,` + pt(`"x"`) + `,` + pt(`"3"`) + `]}}`, skipWant{2, 1, ".metrics[1].sum.dataPoints[1]", 2}},
			{"two bad points", `{"name":"b","gauge":{"dataPoints":[` + pt(`"x"`) + `,` + pt(`"2"`) + `,` + pt(`"y"`) + `]}}`, skipWant{1, 2, ".metrics[1].gauge.dataPoints[0]", 1}},
			{"bad metric before its points", `{"name":"b","sum":{"aggregationTemporality":"SOON","dataPoints":[` + pt(`"1"`) + `,` + pt(`"2"`) + `,` + pt(`"3"`) + `]}}`, skipWant{0, 3, ".metrics[1]", 1}},
			{"bad metric after a bad point", `{"name":"b","sum":{"dataPoints":[` + pt(`"x"`) + `,` + pt(`"2"`) + `,` + pt(`"3"`) + `],"aggregationTemporality":"SOON"}}`, skipWant{0, 3, ".metrics[1]", 1}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				in := `{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"a","gauge":{"dataPoints":[` + pt(`"7"`) + `]}},` +
					tc.metric + `,{"name":"c","gauge":{"dataPoints":[` + pt(`"9"`) + `]}}]}]}]}`
				m, err := telemetry.DecodeMetricsJSON([]byte(in))
				tc.check(t, m, err, 5)
			})
		}
	})
	t.Run("proto", func(t *testing.T) {
		point := func(v string) telemetry.Point {
			return telemetry.Point{TimeUnixNano: 1, Value: 1, Attrs: []telemetry.KeyValue{{Key: "k", Value: telemetry.String(v)}}}
		}
		build := func(name string, vals ...string) *telemetry.Metrics {
			b := telemetry.Metric{Name: name, Type: telemetry.MetricTypeSum}
			for _, v := range vals {
				b.Points = append(b.Points, point(v))
			}
			a := telemetry.Metric{Name: "a", Type: telemetry.MetricTypeGauge, Points: []telemetry.Point{point("ok")}}
			return &telemetry.Metrics{ResourceMetrics: []telemetry.ResourceMetrics{{ScopeMetrics: []telemetry.ScopeMetrics{{Metrics: []telemetry.Metric{a, b, a}}}}}}
		}
		// corrupt replaces the first byte of each "BAD" string with one that is not UTF-8.
		corrupt := func(t *testing.T, m *telemetry.Metrics) []byte {
			b, err := telemetry.EncodeMetricsProto(m)
			require.NoError(t, err)
			s := strings.ReplaceAll(string(b), "BAD", "\xffAD")
			require.NotEqual(t, string(b), s)
			return []byte(s)
		}
		for _, tc := range []struct {
			name string
			m    *telemetry.Metrics
			skipWant
		}{
			{"bad point", build("b", "ok", "BAD", "ok"), skipWant{2, 1, ".metrics[1].dataPoints[1]", 2}},
			{"two bad points", build("b", "BAD", "ok", "BAD"), skipWant{1, 2, ".metrics[1].dataPoints[0]", 1}},
			{"bad metric name", build("BAD", "ok", "ok", "ok"), skipWant{0, 3, ".metrics[1]", 1}},
			{"bad metric name and point", build("BAD", "BAD", "ok"), skipWant{0, 2, ".metrics[1]", 1}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				m, err := telemetry.DecodeMetricsProto(corrupt(t, tc.m))
				tc.check(t, m, err, tc.m.Len())
			})
		}
	})
}
