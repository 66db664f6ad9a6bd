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

// TestMalformedMetricPointIsSkipped: a bad data point is reported and skipped, and the other
// points of its metric are kept; a problem in the metric itself drops the metric, and its one
// error counts every point dropped, so that a receiver's rejected count is what was lost.
func TestMalformedMetricPointIsSkipped(t *testing.T) {
	t.Run("json", func(t *testing.T) {
		pt := func(v string) string { return `{"asInt":` + v + `,"timeUnixNano":"1"}` }
		for _, tc := range []struct {
			name     string
			metric   string
			kept     int // of metric b's points
			rejected int
			path     string
			record   int
		}{
			{"bad point", `{"name":"b","sum":{"dataPoints":[` + pt(`"1"`) + `,` + pt(`"x"`) + `,` + pt(`"3"`) + `]}}`, 2, 1, ".metrics[1].sum.dataPoints[1]", 2},
			{"two bad points", `{"name":"b","gauge":{"dataPoints":[` + pt(`"x"`) + `,` + pt(`"2"`) + `,` + pt(`"y"`) + `]}}`, 1, 2, ".metrics[1].gauge.dataPoints[0]", 1},
			{"bad metric before its points", `{"name":"b","sum":{"aggregationTemporality":"SOON","dataPoints":[` + pt(`"1"`) + `,` + pt(`"2"`) + `,` + pt(`"3"`) + `]}}`, 0, 3, ".metrics[1]", 1},
			{"bad metric after a bad point", `{"name":"b","sum":{"dataPoints":[` + pt(`"x"`) + `,` + pt(`"2"`) + `,` + pt(`"3"`) + `],"aggregationTemporality":"SOON"}}`, 0, 3, ".metrics[1]", 1},
		} {
			t.Run(tc.name, func(t *testing.T) {
				in := `{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"a","gauge":{"dataPoints":[` + pt(`"7"`) + `]}},` +
					tc.metric + `,{"name":"c","gauge":{"dataPoints":[` + pt(`"9"`) + `]}}]}]}]}`
				m, err := telemetry.DecodeMetricsJSON([]byte(in))
				require.ErrorIs(t, err, telemetry.ErrMalformed)
				des := telemetry.DecodeErrors(err)
				require.NotEmpty(t, des)
				assert.Equal(t, tc.record, des[0].Record)
				assert.True(t, strings.HasSuffix(des[0].Path, tc.path), des[0].Path)
				assert.Equal(t, tc.rejected, rejected(err))
				assert.Equal(t, 2+tc.kept, m.Len(), "a's and c's points, and b's good ones")
				assert.Equal(t, 5, m.Len()+rejected(err), "every point is kept or counted")
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
			name     string
			m        *telemetry.Metrics
			kept     int
			rejected int
			path     string
			record   int
		}{
			{"bad point", build("b", "ok", "BAD", "ok"), 2, 1, ".metrics[1].dataPoints[1]", 2},
			{"two bad points", build("b", "BAD", "ok", "BAD"), 1, 2, ".metrics[1].dataPoints[0]", 1},
			{"bad metric name", build("BAD", "ok", "ok", "ok"), 0, 3, ".metrics[1]", 1},
			{"bad metric name and point", build("BAD", "BAD", "ok"), 0, 2, ".metrics[1]", 1},
		} {
			t.Run(tc.name, func(t *testing.T) {
				m, err := telemetry.DecodeMetricsProto(corrupt(t, tc.m))
				require.ErrorIs(t, err, telemetry.ErrMalformed)
				des := telemetry.DecodeErrors(err)
				require.NotEmpty(t, des)
				assert.Equal(t, tc.record, des[0].Record)
				assert.True(t, strings.HasSuffix(des[0].Path, tc.path), des[0].Path)
				assert.Equal(t, tc.rejected, rejected(err))
				assert.Equal(t, 2+tc.kept, m.Len())
				assert.Equal(t, tc.m.Len(), m.Len()+rejected(err), "every point is kept or counted")
			})
		}
	})
}
