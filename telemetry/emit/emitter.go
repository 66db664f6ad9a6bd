package emit

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"

	"github.com/coworkgov/cowork/telemetry"
)

// Emitter writes telemetry events through the OpenTelemetry Go SDK. It must be created with
// [New]. Its methods are safe for concurrent use.
//
// Without [WithLoggerProvider], an Emitter owns one OTLP exporter and one SDK logger provider
// per distinct resource it has seen (one, with [WithResource]); all of them share the
// exporter, so events of different users' sessions leave with their own resources.
type Emitter struct {
	cfg      config
	exporter *sharedExporter // nil with WithLoggerProvider
	now      func() time.Time

	mu        sync.Mutex
	closed    bool
	emitted   int                               // since the last flush from Emit
	providers map[string]*sdklog.LoggerProvider // by resource key
	loggers   map[loggerKey]otellog.Logger
}

type loggerKey struct {
	resource, scope, version string
}

// New returns an Emitter configured by opts. It fails with [ErrUnsupportedProtocol] for
// http/json or an unknown protocol, with [ErrInvalidOption] for contradictory options, and
// with the exporter's error when the exporter cannot be created. New does not connect: an
// unreachable endpoint shows up as export errors later.
func New(ctx context.Context, opts ...Option) (*Emitter, error) {
	var cfg config
	for _, o := range opts {
		o.apply(&cfg)
	}
	if len(cfg.errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOption, errors.Join(cfg.errs...))
	}
	e := &Emitter{cfg: cfg, now: time.Now, providers: map[string]*sdklog.LoggerProvider{}, loggers: map[loggerKey]otellog.Logger{}}
	if cfg.provider != nil {
		if cfg.endpoint != "" || cfg.protocol != ProtocolUnknown || cfg.headers != nil || cfg.insecure || cfg.timeout != 0 ||
			cfg.gzip || cfg.resource != nil || cfg.simple || cfg.queueSize != 0 {
			return nil, fmt.Errorf("%w: WithLoggerProvider excludes exporter, resource and processor options", ErrInvalidOption)
		}
		return e, nil
	}
	if cfg.queueSize == 0 {
		e.cfg.queueSize = DefaultQueueSize
	}
	if !cfg.flushSet {
		e.cfg.flushEvery = max(1, e.cfg.queueSize/2)
	}
	if cfg.protocol == ProtocolUnknown {
		cfg.protocol = ProtocolHTTPProtobuf
		e.cfg.protocol = cfg.protocol
	}
	var exp sdklog.Exporter
	var err error
	switch cfg.protocol {
	case ProtocolHTTPProtobuf:
		exp, err = otlploghttp.New(ctx, httpOptions(cfg)...)
	case ProtocolGRPC:
		exp, err = otlploggrpc.New(ctx, grpcOptions(cfg)...)
	case ProtocolHTTPJSON:
		return nil, fmt.Errorf("%w: %s (the OpenTelemetry Go OTLP/HTTP log exporter sends protobuf only)", ErrUnsupportedProtocol, cfg.protocol)
	default:
		return nil, fmt.Errorf("%w: %d", ErrUnsupportedProtocol, cfg.protocol)
	}
	if err != nil {
		return nil, fmt.Errorf("emit: create %s exporter: %w", cfg.protocol, err)
	}
	e.exporter = &sharedExporter{exp: exp}
	return e, nil
}

func httpOptions(cfg config) []otlploghttp.Option {
	var o []otlploghttp.Option
	if ep := cfg.endpoint; ep != "" {
		if u, err := url.Parse(ep); err == nil && u.Scheme != "" && u.Host != "" {
			if u.Path == "" || u.Path == "/" {
				u.Path = "/v1/logs"
			}
			o = append(o, otlploghttp.WithEndpointURL(u.String()))
		} else {
			o = append(o, otlploghttp.WithEndpoint(ep))
		}
	}
	if cfg.insecure {
		o = append(o, otlploghttp.WithInsecure())
	}
	if cfg.headers != nil {
		o = append(o, otlploghttp.WithHeaders(cfg.headers))
	}
	if cfg.timeout > 0 {
		o = append(o, otlploghttp.WithTimeout(cfg.timeout))
	}
	if cfg.gzip {
		o = append(o, otlploghttp.WithCompression(otlploghttp.GzipCompression))
	}
	return o
}

func grpcOptions(cfg config) []otlploggrpc.Option {
	var o []otlploggrpc.Option
	if ep := cfg.endpoint; ep != "" {
		if strings.Contains(ep, "://") {
			o = append(o, otlploggrpc.WithEndpointURL(ep))
		} else {
			o = append(o, otlploggrpc.WithEndpoint(ep))
		}
	}
	if cfg.insecure {
		o = append(o, otlploggrpc.WithInsecure())
	}
	if cfg.headers != nil {
		o = append(o, otlploggrpc.WithHeaders(cfg.headers))
	}
	if cfg.timeout > 0 {
		o = append(o, otlploggrpc.WithTimeout(cfg.timeout))
	}
	if cfg.gzip {
		o = append(o, otlploggrpc.WithCompressor("gzip"))
	}
	return o
}

// Protocol returns the protocol the Emitter exports with, or ProtocolUnknown when it emits
// through a provider given with WithLoggerProvider.
func (e *Emitter) Protocol() Protocol {
	if e.exporter == nil {
		return ProtocolUnknown
	}
	return e.cfg.protocol
}

// Emit writes ev as one log record: body claude_code.<name> (or the event's own body), the
// attributes of telemetry.AttributesOf(ev) in order with their wire types, the record time
// from TimeUnixNano (else event.timestamp, else now) and the observed time from
// ObservedTimeUnixNano (else the record time), in the scope of ev.Scope (else
// com.anthropic.claude_code.events with the WithScopeVersion version), with ev's resource
// unless WithResource overrides it. A trace and span id on the record are passed on as the
// context's span. Emit does not modify ev.
//
// With the default batching, Emit usually returns before the event is exported; every
// WithFlushEvery events it flushes and waits instead, and returns the flush's error (an export
// failure). Other export failures are reported through the OpenTelemetry error handler
// (otel.SetErrorHandler), and by ForceFlush and Shutdown. Emit returns ErrShutdown after
// Shutdown.
func (e *Emitter) Emit(ctx context.Context, ev telemetry.Event) error {
	r := ev.EventRecord()
	l, flush, err := e.logger(r)
	if err != nil {
		return err
	}
	if !r.TraceID.IsZero() {
		sc := trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: trace.TraceID(r.TraceID), SpanID: trace.SpanID(r.SpanID), TraceFlags: trace.TraceFlags(byte(r.Flags)),
		})
		ctx = trace.ContextWithSpanContext(ctx, sc)
	}
	rec := record(ev, e.now)
	l.Emit(ctx, rec)
	if flush {
		return e.ForceFlush(ctx)
	}
	return nil
}

// logger returns the logger for r's resource and scope, and whether this event should be
// followed by a flush.
func (e *Emitter) logger(r *telemetry.Record) (otellog.Logger, bool, error) {
	scope, version := telemetry.LogsScopeName, e.cfg.scopeVersion
	if r.Scope != nil && (r.Scope.Name != "" || r.Scope.Version != "") {
		scope, version = r.Scope.Name, r.Scope.Version
	}
	res := e.cfg.resource
	if res == nil {
		res = r.Resource
	}
	if e.cfg.provider != nil {
		res = nil
	}
	k := loggerKey{resource: resourceKey(res), scope: scope, version: version}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, false, ErrShutdown
	}
	flush := false
	if e.cfg.flushEvery > 0 {
		e.emitted++
		if e.emitted >= e.cfg.flushEvery {
			e.emitted = 0
			flush = true
		}
	}
	if l, ok := e.loggers[k]; ok {
		return l, flush, nil
	}
	var lp otellog.LoggerProvider = e.cfg.provider
	if lp == nil {
		p, ok := e.providers[k.resource]
		if !ok {
			p = e.newProvider(res)
			e.providers[k.resource] = p
		}
		lp = p
	}
	l := lp.Logger(scope, otellog.WithInstrumentationVersion(version))
	e.loggers[k] = l
	return l, flush, nil
}

func (e *Emitter) newProvider(r *telemetry.Resource) *sdklog.LoggerProvider {
	var proc sdklog.Processor
	if e.cfg.simple {
		proc = sdklog.NewSimpleProcessor(e.exporter)
	} else {
		proc = sdklog.NewBatchProcessor(e.exporter, sdklog.WithMaxQueueSize(e.cfg.queueSize),
			sdklog.WithExportMaxBatchSize(min(e.cfg.queueSize, 512)))
	}
	return sdklog.NewLoggerProvider(
		sdklog.WithResource(sdkResource(r)),
		sdklog.WithProcessor(proc),
		// Keep every attribute as given: no count limit, no de-duplication.
		sdklog.WithAttributeCountLimit(-1),
		sdklog.WithAttributeValueLengthLimit(-1),
		sdklog.WithAllowKeyDuplication(),
	)
}

// sdkResource converts r, or a resource with only service.name "cowork" when r is nil.
func sdkResource(r *telemetry.Resource) *resource.Resource {
	if r == nil {
		return resource.NewSchemaless(keyValues([]telemetry.KeyValue{{Key: telemetry.KeyServiceName, Value: telemetry.String("cowork")}})...)
	}
	return resource.NewSchemaless(keyValues(r.Attrs)...)
}

// resourceKey identifies a resource by its attributes.
func resourceKey(r *telemetry.Resource) string {
	if r == nil {
		return ""
	}
	var b strings.Builder
	for _, kv := range r.Attrs {
		b.WriteString(kv.Key)
		b.WriteByte(0)
		b.WriteString(kv.Value.Kind().String())
		b.WriteByte(0)
		b.WriteString(kv.Value.String())
		b.WriteByte(0)
	}
	return b.String()
}

// ForceFlush exports every event emitted so far and waits for the exports, or until ctx is
// done. It returns the processors' and exporter's errors, and ErrShutdown after Shutdown.
func (e *Emitter) ForceFlush(ctx context.Context) error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return ErrShutdown
	}
	provs := e.providerList()
	ext := e.cfg.provider
	e.mu.Unlock()
	var errs []error
	for _, p := range provs {
		errs = append(errs, p.ForceFlush(ctx))
	}
	if f, ok := ext.(interface{ ForceFlush(context.Context) error }); ok {
		errs = append(errs, f.ForceFlush(ctx))
	}
	return errors.Join(errs...)
}

// Shutdown flushes and stops the Emitter's providers and exporter, waiting until ctx is done
// at most. A provider given with WithLoggerProvider is flushed but not shut down. Calling
// Shutdown again does nothing and returns nil.
func (e *Emitter) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	provs := e.providerList()
	ext := e.cfg.provider
	e.mu.Unlock()
	var errs []error
	for _, p := range provs {
		errs = append(errs, p.Shutdown(ctx))
	}
	if f, ok := ext.(interface{ ForceFlush(context.Context) error }); ok {
		errs = append(errs, f.ForceFlush(ctx))
	}
	if e.exporter != nil {
		errs = append(errs, e.exporter.exp.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

func (e *Emitter) providerList() []*sdklog.LoggerProvider {
	out := make([]*sdklog.LoggerProvider, 0, len(e.providers))
	for _, p := range e.providers {
		out = append(out, p)
	}
	return out
}

// sharedExporter lets several providers' processors share one exporter: it serialises Export
// (the SDK forbids concurrent Export calls) and leaves Shutdown to the Emitter.
type sharedExporter struct {
	mu  sync.Mutex
	exp sdklog.Exporter
}

func (s *sharedExporter) Export(ctx context.Context, recs []sdklog.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exp.Export(ctx, recs)
}

func (s *sharedExporter) Shutdown(context.Context) error { return nil }

func (s *sharedExporter) ForceFlush(ctx context.Context) error { return s.exp.ForceFlush(ctx) }

var _ sdklog.Exporter = (*sharedExporter)(nil)
