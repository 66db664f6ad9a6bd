package telemetry

// The eight metric counters Claude Code exports (SCHEMA.md §7).
const (
	MetricSessionCount         = "claude_code.session.count"
	MetricLinesOfCodeCount     = "claude_code.lines_of_code.count"
	MetricPullRequestCount     = "claude_code.pull_request.count"
	MetricCommitCount          = "claude_code.commit.count"
	MetricCostUsage            = "claude_code.cost.usage"
	MetricTokenUsage           = "claude_code.token.usage"
	MetricCodeEditToolDecision = "claude_code.code_edit_tool.decision"
	MetricActiveTimeTotal      = "claude_code.active_time.total"
)

// Counter names one of the eight Claude Code metric counters. Its zero value, CounterUnknown,
// is any other metric.
type Counter uint8

// The counters.
const (
	CounterUnknown Counter = iota
	CounterSessionCount
	CounterLinesOfCodeCount
	CounterPullRequestCount
	CounterCommitCount
	CounterCostUsage
	CounterTokenUsage
	CounterCodeEditToolDecision
	CounterActiveTimeTotal
)

var counterNames = [...]string{"", MetricSessionCount, MetricLinesOfCodeCount, MetricPullRequestCount,
	MetricCommitCount, MetricCostUsage, MetricTokenUsage, MetricCodeEditToolDecision, MetricActiveTimeTotal}

// String returns the metric name, or "" for CounterUnknown.
func (c Counter) String() string {
	if int(c) < len(counterNames) {
		return counterNames[c]
	}
	return ""
}

// ParseCounter maps a metric name to a Counter.
func ParseCounter(name string) Counter {
	for i, n := range counterNames[1:] {
		if n == name {
			return Counter(i + 1)
		}
	}
	return CounterUnknown
}

// MetricType is the OTLP data type of a metric. Claude Code sends only sums.
type MetricType uint8

// The metric types. MetricTypeOther (histograms, summaries) is kept as raw wire bytes.
const (
	MetricTypeUnknown MetricType = iota
	MetricTypeSum
	MetricTypeGauge
	MetricTypeOther
)

// Temporality is an OTLP aggregation temporality.
type Temporality int32

// The temporalities (OTLP enum numbers).
const (
	TemporalityUnspecified Temporality = 0
	TemporalityDelta       Temporality = 1
	TemporalityCumulative  Temporality = 2
)

// String returns "delta", "cumulative" or "unspecified".
func (t Temporality) String() string {
	switch t {
	case TemporalityDelta:
		return "delta"
	case TemporalityCumulative:
		return "cumulative"
	}
	return "unspecified"
}

// Metrics is a decoded OTLP ExportMetricsServiceRequest.
type Metrics struct {
	ResourceMetrics []ResourceMetrics
}

// ResourceMetrics is the metrics of one resource.
type ResourceMetrics struct {
	Resource     *Resource
	SchemaURL    string
	ScopeMetrics []ScopeMetrics
}

// ScopeMetrics is the metrics of one scope (MetricsScopeName for Claude Code).
type ScopeMetrics struct {
	Scope     *Scope
	SchemaURL string
	Metrics   []Metric
}

// Metric is one metric with its data points. Sums and gauges are typed; other data types
// (histograms, summaries) are kept as their raw wire form, unchecked, and re-encoded unchanged
// in the same encoding only.
type Metric struct {
	Name        string
	Description string
	Unit        string
	Type        MetricType
	Temporality Temporality // sums only
	Monotonic   bool        // sums only
	Points      []Point
	Metadata    Attributes

	raw     string // MetricTypeOther: the data field's raw bytes (proto) or JSON text
	rawKey  string // MetricTypeOther in JSON: its key, e.g. "histogram"
	rawNum  int    // MetricTypeOther in protobuf: its field number
	rawJSON bool
}

// Counter returns which Claude Code counter the metric is.
func (m *Metric) Counter() Counter { return ParseCounter(m.Name) }

// Point is one number data point. Common is the typed view of the standard attributes in Attrs.
type Point struct {
	Attrs             Attributes
	Common            Common
	StartTimeUnixNano uint64
	TimeUnixNano      uint64
	// Value is the point's value: as_double, or as_int converted to float64.
	Value float64
	// Int and IsInt hold an as_int value exactly (Claude Code always sends as_double).
	Int   int64
	IsInt bool
	Flags uint32

	exemplars []string // raw exemplars, re-encoded in the same encoding
}

// Get returns the text of a point attribute (see [Value.Text]), or "".
func (p *Point) Get(key string) string {
	v, _ := p.Attrs.Get(key)
	return v.Text()
}

// MetricPoint is one data point with the metric, resource and scope it belongs to.
type MetricPoint struct {
	Metric   *Metric
	Point    *Point
	Resource *Resource
	Scope    *Scope
}

// Points returns every data point in wire order.
func (m *Metrics) Points() []MetricPoint {
	var out []MetricPoint
	for i := range m.ResourceMetrics {
		rm := &m.ResourceMetrics[i]
		for j := range rm.ScopeMetrics {
			sm := &rm.ScopeMetrics[j]
			for k := range sm.Metrics {
				mt := &sm.Metrics[k]
				for l := range mt.Points {
					out = append(out, MetricPoint{Metric: mt, Point: &mt.Points[l], Resource: rm.Resource, Scope: sm.Scope})
				}
			}
		}
	}
	return out
}

// Len returns the number of data points.
func (m *Metrics) Len() int {
	n := 0
	for i := range m.ResourceMetrics {
		for j := range m.ResourceMetrics[i].ScopeMetrics {
			for _, mt := range m.ResourceMetrics[i].ScopeMetrics[j].Metrics {
				n += len(mt.Points)
			}
		}
	}
	return n
}

func (p *Point) bindCommon() {
	for _, kv := range p.Attrs {
		p.Common.setField(kv.Key, kv.Value)
	}
}
