package telemetry

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
)

// ErrUnsupported means a value cannot be written in the requested form, e.g. a histogram
// decoded from protobuf encoded as JSON.
var ErrUnsupported = errors.New("telemetry: unsupported")

// DecodeMetricsProto decodes an OTLP ExportMetricsServiceRequest in protobuf with the default
// options. See [DecodeOptions.DecodeMetricsProto].
func DecodeMetricsProto(b []byte) (*Metrics, error) { return DecodeOptions{}.DecodeMetricsProto(b) }

// DecodeMetricsJSON decodes an OTLP/JSON ExportMetricsServiceRequest with the default options.
func DecodeMetricsJSON(b []byte) (*Metrics, error) { return DecodeOptions{}.DecodeMetricsJSON(b) }

// DecodeMetricsProto decodes an OTLP ExportMetricsServiceRequest in protobuf. Records are
// data points: a malformed data point is reported as a [*DecodeError] and skipped, and the
// other points of its metric are kept; a problem in a metric itself (its name, its metadata)
// drops the metric, with one error whose Records counts its points.
func (o DecodeOptions) DecodeMetricsProto(b []byte) (*Metrics, error) {
	m := &Metrics{}
	if len(b) > o.maxBytes() {
		return m, &DecodeError{Record: -1, Err: fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(b), o.maxBytes())}
	}
	d := protoDecoder{src: string(b), maxDepth: o.maxDepth()}
	off, end := 0, len(d.src)
	for off < end {
		num, typ, s, e, _, next, err := d.field(off, end)
		if err != nil {
			d.fail(-1, "", off, err)
			break
		}
		if num == 1 && typ == protowire.BytesType {
			ri := len(m.ResourceMetrics)
			m.ResourceMetrics = append(m.ResourceMetrics, ResourceMetrics{Resource: &Resource{}})
			if !d.resourceMetrics(&m.ResourceMetrics[ri], ri, s, e) {
				break
			}
		}
		off = next
	}
	return m, errors.Join(d.errs...)
}

func (d *protoDecoder) resourceMetrics(rm *ResourceMetrics, ri, off, end int) bool {
	path := "resourceMetrics[" + strconv.Itoa(ri) + "]"
	for off < end {
		num, typ, s, e, _, next, err := d.field(off, end)
		if err != nil {
			d.fail(-1, path, off, err)
			return false
		}
		if typ == protowire.BytesType {
			switch num {
			case 1:
				if err := d.decodeResource(rm.Resource, s, e); err != nil {
					d.fail(-1, path+".resource", s, err)
				}
			case 2:
				si := len(rm.ScopeMetrics)
				rm.ScopeMetrics = append(rm.ScopeMetrics, ScopeMetrics{Scope: &Scope{}})
				if !d.scopeMetrics(&rm.ScopeMetrics[si], path+".scopeMetrics["+strconv.Itoa(si)+"]", s, e) {
					return false
				}
			case 3:
				rm.SchemaURL = d.schemaURL(s, e, path+".schemaUrl")
			}
		}
		off = next
	}
	return true
}

func (d *protoDecoder) scopeMetrics(sm *ScopeMetrics, path string, off, end int) bool {
	for off < end {
		num, typ, s, e, _, next, err := d.field(off, end)
		if err != nil {
			d.fail(-1, path, off, err)
			return false
		}
		if typ == protowire.BytesType {
			switch num {
			case 1:
				if err := d.decodeScope(sm.Scope, s, e); err != nil {
					d.fail(-1, path+".scope", s, err)
				}
			case 2:
				var mt Metric
				first, errs := d.record, len(d.errs)
				mpath := path + ".metrics[" + strconv.Itoa(len(sm.Metrics)) + "]"
				if at, err := d.metric(&mt, mpath, s, e); err != nil {
					// The metric is dropped whole: one error for all its points, in place of
					// those its bad points reported.
					d.errs = d.errs[:errs]
					d.errs = append(d.errs, &DecodeError{Record: first, Records: d.record - first, Path: mpath, Offset: at, Err: err})
				} else {
					sm.Metrics = append(sm.Metrics, mt)
				}
			case 3:
				sm.SchemaURL = d.schemaURL(s, e, path+".schemaUrl")
			}
		}
		off = next
	}
	return true
}

// metric decodes one metric. A bad data point is reported and skipped (see numberData); a
// problem in the metric itself is returned, with its offset, after the rest of the metric has
// been read, so that d.record has counted all its points.
func (d *protoDecoder) metric(mt *Metric, path string, off, end int) (int, error) {
	var bad error
	badAt := 0
	for off < end {
		num, typ, s, e, _, next, err := d.field(off, end)
		if err != nil {
			if bad == nil {
				bad, badAt = err, off
			}
			return badAt, bad
		}
		if typ == protowire.BytesType {
			at := s // where a problem of this field is reported
			switch num {
			case 1:
				mt.Name, err = d.str(s, e)
			case 2:
				mt.Description, err = d.str(s, e)
			case 3:
				mt.Unit, err = d.str(s, e)
			case 5, 7:
				mt.Type = MetricTypeGauge
				if num == 7 {
					mt.Type = MetricTypeSum
				}
				at, err = d.numberData(mt, path, s, e)
			case 9, 10, 11:
				mt.Type, mt.raw, mt.rawNum = MetricTypeOther, d.src[s:e], int(num)
				d.record++
			case 12:
				var kv KeyValue
				if kv, err = d.decodeKeyValue(s, e, 0); err == nil {
					mt.Metadata = append(mt.Metadata, kv)
				}
			}
			if err != nil && bad == nil {
				bad, badAt = err, at
			}
		}
		off = next
	}
	return badAt, bad
}

// numberData decodes a gauge's or sum's data. A data point that fails to decode is reported
// (its index as the record) and skipped; the others are kept. A framing error ends it.
func (d *protoDecoder) numberData(mt *Metric, path string, off, end int) (int, error) {
	for i := 0; off < end; {
		num, typ, s, e, v, next, err := d.field(off, end)
		if err != nil {
			return off, err
		}
		switch {
		case num == 1 && typ == protowire.BytesType:
			var p Point
			rec := d.record
			d.record++
			if at, err := d.point(&p, s, e); err != nil {
				d.fail(rec, path+".dataPoints["+strconv.Itoa(i)+"]", at, err)
			} else {
				mt.Points = append(mt.Points, p)
			}
			i++
		case num == 2 && typ == protowire.VarintType:
			mt.Temporality = Temporality(int32(v))
		case num == 3 && typ == protowire.VarintType:
			mt.Monotonic = v != 0
		}
		off = next
	}
	return 0, nil
}

func (d *protoDecoder) point(p *Point, off, end int) (int, error) {
	for off < end {
		num, typ, s, e, v, next, err := d.field(off, end)
		if err != nil {
			return off, err
		}
		switch {
		case num == 7 && typ == protowire.BytesType:
			kv, err := d.decodeKeyValue(s, e, 0)
			if err != nil {
				return s, err
			}
			p.Attrs = append(p.Attrs, kv)
		case num == 2 && typ == protowire.Fixed64Type:
			p.StartTimeUnixNano = v
		case num == 3 && typ == protowire.Fixed64Type:
			p.TimeUnixNano = v
		case num == 4 && typ == protowire.Fixed64Type:
			p.Value, p.IsInt = math.Float64frombits(v), false
		case num == 6 && typ == protowire.Fixed64Type:
			p.Int, p.IsInt = int64(v), true
			p.Value = float64(p.Int)
		case num == 5 && typ == protowire.BytesType:
			p.exemplars = append(p.exemplars, d.src[s:e])
		case num == 8 && typ == protowire.VarintType:
			p.Flags = uint32(v)
		}
		off = next
	}
	p.bindCommon()
	return 0, nil
}

// DecodeMetricsJSON decodes an OTLP/JSON ExportMetricsServiceRequest; bad data points and
// metrics are reported and skipped as [DecodeOptions.DecodeMetricsProto] says.
func (o DecodeOptions) DecodeMetricsJSON(b []byte) (*Metrics, error) {
	m := &Metrics{}
	if len(b) > o.maxBytes() {
		return m, &DecodeError{Record: -1, Err: fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(b), o.maxBytes())}
	}
	s := &jsonScanner{src: string(b), maxDepth: o.maxDepth(), strict: o.DisallowUnknownFields}
	var errs []error
	record := 0
	flush := func(rec int, path string) {
		if s.sem != nil {
			errs = append(errs, &DecodeError{Record: rec, Path: path, Offset: s.semAt, Err: s.sem})
			s.sem = nil
		}
	}
	err := s.object(func(key string) error {
		if key != "resourceMetrics" && key != "resource_metrics" {
			return s.unknown(key)
		}
		return s.array(func() error {
			ri := len(m.ResourceMetrics)
			m.ResourceMetrics = append(m.ResourceMetrics, ResourceMetrics{Resource: &Resource{}})
			rm := &m.ResourceMetrics[ri]
			path := "resourceMetrics[" + strconv.Itoa(ri) + "]"
			err := s.object(func(key string) error {
				switch key {
				case "resource":
					err := resourceJSON(s, rm.Resource)
					flush(-1, path+".resource")
					return err
				case "schemaUrl", "schema_url":
					var err error
					rm.SchemaURL, err = s.stringField(key)
					return err
				case "scopeMetrics", "scope_metrics":
					return s.array(func() error {
						si := len(rm.ScopeMetrics)
						rm.ScopeMetrics = append(rm.ScopeMetrics, ScopeMetrics{Scope: &Scope{}})
						sm := &rm.ScopeMetrics[si]
						spath := path + ".scopeMetrics[" + strconv.Itoa(si) + "]"
						return s.object(func(key string) error {
							switch key {
							case "scope":
								err := scopeJSON(s, sm.Scope)
								flush(-1, spath+".scope")
								return err
							case "schemaUrl", "schema_url":
								var err error
								sm.SchemaURL, err = s.stringField(key)
								return err
							case "metrics":
								return s.array(func() error {
									var mt Metric
									first, nerrs := record, len(errs)
									mpath := spath + ".metrics[" + strconv.Itoa(len(sm.Metrics)) + "]"
									err := metricJSON(s, &mt, &record, mpath, flush)
									if s.sem != nil {
										// The metric is dropped whole: one error for all its
										// points, in place of those its bad points reported.
										errs = errs[:nerrs]
										errs = append(errs, &DecodeError{Record: first, Records: record - first, Path: mpath, Offset: s.semAt, Err: s.sem})
										s.sem = nil
									} else if err == nil {
										sm.Metrics = append(sm.Metrics, mt)
									}
									return err
								})
							}
							return s.unknown(key)
						})
					})
				}
				return s.unknown(key)
			})
			flush(-1, path)
			return err
		})
	})
	flush(-1, "")
	if err != nil {
		errs = append(errs, err)
	}
	return m, errors.Join(errs...)
}

// metricJSON decodes one metric at path. A data point with a semantic problem is reported
// through flush (its index as the record) and skipped; a problem of the metric itself is left
// in s.sem for the caller, which drops the metric.
func metricJSON(s *jsonScanner, mt *Metric, record *int, path string, flush func(rec int, path string)) error {
	return s.object(func(key string) error {
		var err error
		switch key {
		case "name":
			mt.Name, err = s.stringField(key)
		case "description":
			mt.Description, err = s.stringField(key)
		case "unit":
			mt.Unit, err = s.stringField(key)
		case "metadata":
			mt.Metadata, err = s.attributes(mt.Metadata)
		case "sum", "gauge":
			mt.Type = MetricTypeGauge
			if key == "sum" {
				mt.Type = MetricTypeSum
			}
			err = s.object(func(k2 string) error {
				var err error
				switch k2 {
				case "dataPoints", "data_points":
					i := 0
					err = s.array(func() error {
						var p Point
						rec := *record
						*record++
						// A problem of the metric's, found before this point, waits aside.
						held, heldAt := s.sem, s.semAt
						s.sem = nil
						err := pointJSON(s, &p)
						if s.sem != nil {
							flush(rec, path+"."+key+".dataPoints["+strconv.Itoa(i)+"]")
						} else if err == nil {
							mt.Points = append(mt.Points, p)
						}
						s.sem, s.semAt = held, heldAt
						i++
						return err
					})
				case "aggregationTemporality", "aggregation_temporality":
					var t string
					var quoted bool
					t, quoted, err = s.scalarText()
					switch {
					case quoted && t == "AGGREGATION_TEMPORALITY_DELTA":
						mt.Temporality = TemporalityDelta
					case quoted && t == "AGGREGATION_TEMPORALITY_CUMULATIVE":
						mt.Temporality = TemporalityCumulative
					case quoted && t == "AGGREGATION_TEMPORALITY_UNSPECIFIED":
					default:
						n, perr := strconv.ParseInt(t, 10, 32)
						if perr != nil && t != "" {
							s.semantic(fmt.Errorf("%w: aggregationTemporality %q", ErrMalformed, t))
						}
						mt.Temporality = Temporality(n)
					}
				case "isMonotonic", "is_monotonic":
					mt.Monotonic, err = s.boolField(k2)
				default:
					return s.unknown(k2)
				}
				return err
			})
		case "histogram", "exponentialHistogram", "exponential_histogram", "summary":
			start := s.pos
			s.ws()
			start = s.pos
			err = s.skip()
			mt.Type, mt.raw, mt.rawKey, mt.rawJSON = MetricTypeOther, s.src[start:s.pos], key, true
			*record++
		default:
			return s.unknown(key)
		}
		return err
	})
}

func pointJSON(s *jsonScanner, p *Point) error {
	err := s.object(func(key string) error {
		var err error
		switch key {
		case "attributes":
			p.Attrs, err = s.attributes(p.Attrs)
		case "startTimeUnixNano", "start_time_unix_nano":
			p.StartTimeUnixNano, err = s.uint64Field(key)
		case "timeUnixNano", "time_unix_nano":
			p.TimeUnixNano, err = s.uint64Field(key)
		case "asDouble", "as_double":
			p.Value, err = s.doubleField(key)
			p.IsInt = false
		case "asInt", "as_int":
			p.Int, err = s.int64Field(key)
			p.IsInt, p.Value = true, float64(p.Int)
		case "flags":
			var n uint64
			n, err = s.uint64Field(key)
			p.Flags = uint32(n)
		case "exemplars":
			s.ws()
			start := s.pos
			err = s.skip()
			p.exemplars = append(p.exemplars, s.src[start:s.pos])
		default:
			return s.unknown(key)
		}
		return err
	})
	p.bindCommon()
	return err
}

// EncodeMetricsProto encodes m as an OTLP ExportMetricsServiceRequest in protobuf.
func EncodeMetricsProto(m *Metrics) ([]byte, error) {
	return EncodeOptions{}.AppendMetricsProto(nil, m)
}

// EncodeMetricsJSON encodes m as OTLP/JSON the way Claude Code writes it.
func EncodeMetricsJSON(m *Metrics) ([]byte, error) { return EncodeOptions{}.AppendMetricsJSON(nil, m) }

// AppendMetricsProto appends m to dst in protobuf. A histogram or summary decoded from JSON
// cannot be written (ErrUnsupported).
func (o EncodeOptions) AppendMetricsProto(dst []byte, m *Metrics) ([]byte, error) {
	e := protoEncoder{buf: dst}
	for i := range m.ResourceMetrics {
		rm := &m.ResourceMetrics[i]
		e.buf = protowire.AppendTag(e.buf, 1, protowire.BytesType)
		e.buf = protowire.AppendVarint(e.buf, uint64(resourceMetricsSize(rm)))
		e.resource(rm.Resource)
		for j := range rm.ScopeMetrics {
			sm := &rm.ScopeMetrics[j]
			e.buf = protowire.AppendTag(e.buf, 2, protowire.BytesType)
			e.buf = protowire.AppendVarint(e.buf, uint64(scopeMetricsSize(sm)))
			e.scope(sm.Scope)
			for k := range sm.Metrics {
				mt := &sm.Metrics[k]
				if mt.Type == MetricTypeOther && mt.rawJSON {
					return nil, fmt.Errorf("%w: metric %q of a type other than sum or gauge, decoded from JSON, as protobuf", ErrUnsupported, mt.Name)
				}
				e.buf = protowire.AppendTag(e.buf, 2, protowire.BytesType)
				e.buf = protowire.AppendVarint(e.buf, uint64(metricSize(mt)))
				e.metric(mt)
			}
			if sm.SchemaURL != "" {
				e.str(3, sm.SchemaURL)
			}
		}
		if rm.SchemaURL != "" {
			e.str(3, rm.SchemaURL)
		}
	}
	if e.err != nil {
		return nil, e.err
	}
	return e.buf, nil
}

func resourceMetricsSize(rm *ResourceMetrics) int {
	n := 0
	if rm.Resource != nil {
		n += sizeBytes(1, resourceSize(rm.Resource))
	}
	for j := range rm.ScopeMetrics {
		n += sizeBytes(2, scopeMetricsSize(&rm.ScopeMetrics[j]))
	}
	if rm.SchemaURL != "" {
		n += sizeBytes(3, len(rm.SchemaURL))
	}
	return n
}

func scopeMetricsSize(sm *ScopeMetrics) int {
	n := 0
	if sm.Scope != nil {
		n += sizeBytes(1, scopeSize(sm.Scope))
	}
	for k := range sm.Metrics {
		n += sizeBytes(2, metricSize(&sm.Metrics[k]))
	}
	if sm.SchemaURL != "" {
		n += sizeBytes(3, len(sm.SchemaURL))
	}
	return n
}

func metricSize(mt *Metric) int {
	n := 0
	if mt.Name != "" {
		n += sizeBytes(1, len(mt.Name))
	}
	if mt.Description != "" {
		n += sizeBytes(2, len(mt.Description))
	}
	n += sizeBytes(3, len(mt.Unit)) // written even when empty, as Claude Code does
	switch mt.Type {
	case MetricTypeGauge:
		n += sizeBytes(5, numberDataSize(mt))
	case MetricTypeSum:
		n += sizeBytes(7, numberDataSize(mt))
	case MetricTypeOther:
		n += sizeBytes(protowire.Number(mt.rawNum), len(mt.raw))
	}
	n += attrsSize(12, mt.Metadata)
	return n
}

func numberDataSize(mt *Metric) int {
	n := 0
	for i := range mt.Points {
		n += sizeBytes(1, pointSize(&mt.Points[i]))
	}
	if mt.Type == MetricTypeSum {
		if mt.Temporality != 0 {
			n += protowire.SizeTag(2) + protowire.SizeVarint(uint64(int64(mt.Temporality)))
		}
		if mt.Monotonic {
			n += protowire.SizeTag(3) + 1
		}
	}
	return n
}

func pointSize(p *Point) int {
	n := 0
	if p.StartTimeUnixNano != 0 {
		n += protowire.SizeTag(2) + 8
	}
	if p.TimeUnixNano != 0 {
		n += protowire.SizeTag(3) + 8
	}
	n += protowire.SizeTag(4) + 8 // as_double or as_int, both fixed 64
	for _, x := range p.exemplars {
		n += sizeBytes(5, len(x))
	}
	n += attrsSize(7, p.Attrs)
	if p.Flags != 0 {
		n += protowire.SizeTag(8) + protowire.SizeVarint(uint64(p.Flags))
	}
	return n
}

func (e *protoEncoder) metric(mt *Metric) {
	if mt.Name != "" {
		e.str(1, mt.Name)
	}
	if mt.Description != "" {
		e.str(2, mt.Description)
	}
	e.str(3, mt.Unit)
	switch mt.Type {
	case MetricTypeGauge, MetricTypeSum:
		num := protowire.Number(5)
		if mt.Type == MetricTypeSum {
			num = 7
		}
		e.buf = protowire.AppendTag(e.buf, num, protowire.BytesType)
		e.buf = protowire.AppendVarint(e.buf, uint64(numberDataSize(mt)))
		for i := range mt.Points {
			p := &mt.Points[i]
			e.buf = protowire.AppendTag(e.buf, 1, protowire.BytesType)
			e.buf = protowire.AppendVarint(e.buf, uint64(pointSize(p)))
			if p.StartTimeUnixNano != 0 {
				e.buf = protowire.AppendTag(e.buf, 2, protowire.Fixed64Type)
				e.buf = protowire.AppendFixed64(e.buf, p.StartTimeUnixNano)
			}
			if p.TimeUnixNano != 0 {
				e.buf = protowire.AppendTag(e.buf, 3, protowire.Fixed64Type)
				e.buf = protowire.AppendFixed64(e.buf, p.TimeUnixNano)
			}
			if p.IsInt {
				e.buf = protowire.AppendTag(e.buf, 6, protowire.Fixed64Type)
				e.buf = protowire.AppendFixed64(e.buf, uint64(p.Int))
			} else {
				e.buf = protowire.AppendTag(e.buf, 4, protowire.Fixed64Type)
				e.buf = protowire.AppendFixed64(e.buf, math.Float64bits(p.Value))
			}
			for _, x := range p.exemplars {
				e.buf = protowire.AppendTag(e.buf, 5, protowire.BytesType)
				e.buf = protowire.AppendString(e.buf, x)
			}
			e.attributes(7, p.Attrs)
			if p.Flags != 0 {
				e.buf = protowire.AppendTag(e.buf, 8, protowire.VarintType)
				e.buf = protowire.AppendVarint(e.buf, uint64(p.Flags))
			}
		}
		if mt.Type == MetricTypeSum {
			if mt.Temporality != 0 {
				e.buf = protowire.AppendTag(e.buf, 2, protowire.VarintType)
				e.buf = protowire.AppendVarint(e.buf, uint64(int64(mt.Temporality)))
			}
			if mt.Monotonic {
				e.buf = protowire.AppendTag(e.buf, 3, protowire.VarintType)
				e.buf = protowire.AppendVarint(e.buf, 1)
			}
		}
	case MetricTypeOther:
		e.buf = protowire.AppendTag(e.buf, protowire.Number(mt.rawNum), protowire.BytesType)
		e.buf = protowire.AppendString(e.buf, mt.raw)
	}
	e.attributes(12, mt.Metadata)
}

// AppendMetricsJSON appends m to dst as OTLP/JSON. A histogram or summary decoded from
// protobuf cannot be written (ErrUnsupported).
func (o EncodeOptions) AppendMetricsJSON(dst []byte, m *Metrics) ([]byte, error) {
	b := append(dst, `{"resourceMetrics":[`...)
	for i := range m.ResourceMetrics {
		rm := &m.ResourceMetrics[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		if rm.Resource != nil {
			b = append(b, `"resource":`...)
			b = o.resourceJSON(b, rm.Resource)
			b = append(b, ',')
		}
		b = append(b, `"scopeMetrics":[`...)
		for j := range rm.ScopeMetrics {
			sm := &rm.ScopeMetrics[j]
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, '{')
			if sm.Scope != nil {
				b = append(b, `"scope":`...)
				b = o.scopeJSON(b, sm.Scope)
				b = append(b, ',')
			}
			b = append(b, `"metrics":[`...)
			for k := range sm.Metrics {
				if k > 0 {
					b = append(b, ',')
				}
				var err error
				if b, err = o.metricJSON(b, &sm.Metrics[k]); err != nil {
					return nil, err
				}
			}
			b = append(b, ']')
			if sm.SchemaURL != "" {
				b = append(b, `,"schemaUrl":`...)
				b = appendJSONString(b, sm.SchemaURL)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
		if rm.SchemaURL != "" {
			b = append(b, `,"schemaUrl":`...)
			b = appendJSONString(b, rm.SchemaURL)
		}
		b = append(b, '}')
	}
	return append(b, "]}"...), nil
}

func (o EncodeOptions) metricJSON(b []byte, mt *Metric) ([]byte, error) {
	b = append(b, `{"name":`...)
	b = appendJSONString(b, mt.Name)
	b = append(b, `,"description":`...)
	b = appendJSONString(b, mt.Description)
	b = append(b, `,"unit":`...)
	b = appendJSONString(b, mt.Unit)
	switch mt.Type {
	case MetricTypeSum, MetricTypeGauge:
		if mt.Type == MetricTypeSum {
			b = append(b, `,"sum":{"aggregationTemporality":`...)
			b = strconv.AppendInt(b, int64(mt.Temporality), 10)
			b = append(b, `,"isMonotonic":`...)
			b = strconv.AppendBool(b, mt.Monotonic)
			b = append(b, `,"dataPoints":[`...)
		} else {
			b = append(b, `,"gauge":{"dataPoints":[`...)
		}
		for i := range mt.Points {
			p := &mt.Points[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"attributes":`...)
			b = o.attrsJSON(b, p.Attrs)
			if p.StartTimeUnixNano != 0 {
				b = append(b, `,"startTimeUnixNano":"`...)
				b = strconv.AppendUint(b, p.StartTimeUnixNano, 10)
				b = append(b, '"')
			}
			if p.TimeUnixNano != 0 {
				b = append(b, `,"timeUnixNano":"`...)
				b = strconv.AppendUint(b, p.TimeUnixNano, 10)
				b = append(b, '"')
			}
			if p.IsInt {
				b = append(b, `,"asInt":`...)
				if o.IntAsString {
					b = append(b, '"')
					b = strconv.AppendInt(b, p.Int, 10)
					b = append(b, '"')
				} else {
					b = strconv.AppendInt(b, p.Int, 10)
				}
			} else {
				b = append(b, `,"asDouble":`...)
				b = appendJSONFloat(b, p.Value)
			}
			for _, x := range p.exemplars {
				if len(x) > 0 && x[0] != '[' {
					return nil, fmt.Errorf("%w: exemplars decoded from protobuf as JSON", ErrUnsupported)
				}
				b = append(b, `,"exemplars":`...)
				b = append(b, x...)
			}
			if p.Flags != 0 {
				b = append(b, `,"flags":`...)
				b = strconv.AppendUint(b, uint64(p.Flags), 10)
			}
			b = append(b, '}')
		}
		b = append(b, "]}"...)
	case MetricTypeOther:
		if !mt.rawJSON {
			return nil, fmt.Errorf("%w: metric %q of a type other than sum or gauge, decoded from protobuf, as JSON", ErrUnsupported, mt.Name)
		}
		b = append(b, ',')
		b = appendJSONString(b, mt.rawKey)
		b = append(b, ':')
		b = append(b, mt.raw...)
	}
	if len(mt.Metadata) > 0 {
		b = append(b, `,"metadata":`...)
		b = o.attrsJSON(b, mt.Metadata)
	}
	return append(b, '}'), nil
}
