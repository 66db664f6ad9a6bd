package emit

import (
	"errors"
	"maps"
	"time"

	otellog "go.opentelemetry.io/otel/log"

	"github.com/coworkgov/cowork/telemetry"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrUnsupportedProtocol is returned by New for a protocol the OpenTelemetry Go log
	// exporters do not speak (http/json) or an unknown one.
	ErrUnsupportedProtocol = errors.New("emit: unsupported protocol")
	// ErrInvalidOption is returned by New when options contradict each other or a value is
	// out of range.
	ErrInvalidOption = errors.New("emit: invalid option")
	// ErrShutdown is returned by Emit and ForceFlush after Shutdown.
	ErrShutdown = errors.New("emit: emitter is shut down")
)

// Protocol is an OTLP transport. Its zero value, ProtocolUnknown, is refused by New.
type Protocol uint8

// The OTLP protocols, named as OTEL_EXPORTER_OTLP_PROTOCOL names them.
const (
	ProtocolUnknown      Protocol = iota
	ProtocolHTTPProtobuf          // http/protobuf: OTLP/HTTP with protobuf bodies (the default)
	ProtocolGRPC                  // grpc: OTLP/gRPC
	ProtocolHTTPJSON              // http/json: not supported by the OpenTelemetry Go exporter
)

var protocolNames = [...]string{"", "http/protobuf", "grpc", "http/json"}

// String returns the protocol's OTEL_EXPORTER_OTLP_PROTOCOL name, or "" when unknown.
func (p Protocol) String() string {
	if int(p) < len(protocolNames) {
		return protocolNames[p]
	}
	return ""
}

// ParseProtocol maps an OTEL_EXPORTER_OTLP_PROTOCOL name to a Protocol; unknown names give
// ProtocolUnknown.
func ParseProtocol(s string) Protocol {
	for i, n := range protocolNames[1:] {
		if n == s {
			return Protocol(i + 1)
		}
	}
	return ProtocolUnknown
}

// Option configures an Emitter in [New]. Options are sealed: only this package makes them.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	endpoint     string
	protocol     Protocol
	headers      map[string]string
	insecure     bool
	timeout      time.Duration
	resource     *telemetry.Resource
	provider     otellog.LoggerProvider
	scopeVersion string
	simple       bool
	gzip         bool
	queueSize    int
	flushEvery   int
	flushSet     bool
	errs         []error
}

// DefaultQueueSize is the SDK batch processor's queue size the Emitter uses by default.
const DefaultQueueSize = 2048

// WithEndpoint sets where events are sent: a URL ("http://127.0.0.1:4318", or with a path,
// "https://collector.example/otlp/v1/logs") or host:port. For http/protobuf an empty path or
// "/" becomes /v1/logs, as OTEL_EXPORTER_OTLP_ENDPOINT does; an http:// URL implies
// [WithInsecure]. Default: the exporter's own default, from OTEL_EXPORTER_OTLP_LOGS_ENDPOINT or
// OTEL_EXPORTER_OTLP_ENDPOINT when set, else localhost:4318 (HTTP) or localhost:4317 (gRPC).
func WithEndpoint(endpoint string) Option {
	return optionFunc(func(c *config) { c.endpoint = endpoint })
}

// WithProtocol sets the OTLP protocol: [ProtocolHTTPProtobuf] (the default) or [ProtocolGRPC].
// [ProtocolHTTPJSON] makes New fail with [ErrUnsupportedProtocol], because the OpenTelemetry Go
// OTLP/HTTP log exporter only encodes protobuf.
func WithProtocol(p Protocol) Option {
	return optionFunc(func(c *config) { c.protocol = p })
}

// WithHeaders sets headers sent with every export, e.g. Authorization. The map is copied.
// Default: none besides the exporter's, and OTEL_EXPORTER_OTLP_HEADERS when set.
func WithHeaders(h map[string]string) Option {
	h = maps.Clone(h)
	return optionFunc(func(c *config) { c.headers = h })
}

// WithInsecure sends over plain HTTP or gRPC without TLS. Default: TLS, unless the endpoint
// URL's scheme is http.
func WithInsecure() Option {
	return optionFunc(func(c *config) { c.insecure = true })
}

// WithTimeout bounds each export. Default: the exporter's (10 s).
func WithTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d <= 0 {
			c.errs = append(c.errs, errors.New("emit: timeout must be positive"))
		}
		c.timeout = d
	})
}

// WithGzip compresses export requests with gzip. Default: no compression.
func WithGzip() Option {
	return optionFunc(func(c *config) { c.gzip = true })
}

// WithResource sends every event with resource r, whatever the event's own Resource says. r is
// copied. Default: each event's own Resource, so events of several users or products keep
// theirs; events without one get a resource with only service.name "cowork".
func WithResource(r *telemetry.Resource) Option {
	if r != nil {
		cp := *r
		cp.Attrs = r.Attrs.Clone()
		r = &cp
	}
	return optionFunc(func(c *config) { c.resource = r })
}

// WithResourceAttributes is WithResource with a resource made of attrs.
func WithResourceAttributes(attrs ...telemetry.KeyValue) Option {
	r := &telemetry.Resource{Attrs: telemetry.Attributes(attrs)}
	r.Refresh()
	return WithResource(r)
}

// WithScopeVersion sets the scope version (the CLI version) of events whose Scope is unset.
// Default: "" for such events; an event's own Scope always wins.
func WithScopeVersion(v string) Option {
	return optionFunc(func(c *config) { c.scopeVersion = v })
}

// WithSimpleProcessor exports each event synchronously inside Emit, one request per event,
// instead of batching them (the default batches, as Claude Code does, and sends on
// ForceFlush, Shutdown, a full batch or the batch interval). Useful in tests and examples.
func WithSimpleProcessor() Option {
	return optionFunc(func(c *config) { c.simple = true })
}

// WithQueueSize sets the batch processor's queue size: how many events may wait for export per
// resource. Default: DefaultQueueSize. When a queue is full the SDK drops its oldest event, which
// is why the Emitter flushes every so often (see WithFlushEvery).
func WithQueueSize(n int) Option {
	return optionFunc(func(c *config) {
		if n <= 0 {
			c.errs = append(c.errs, errors.New("emit: queue size must be positive"))
		}
		c.queueSize = n
	})
}

// WithFlushEvery makes Emit flush (export and wait) after every n events, so that the SDK's
// queues never overflow and export errors come back from Emit: back-pressure for load
// generators. n <= 0 never flushes from Emit, and the SDK then drops events when a producer
// outruns the exporter. Default: half the queue size, which loses nothing for one producer
// goroutine and leaves room for others emitting while a flush runs.
func WithFlushEvery(n int) Option {
	return optionFunc(func(c *config) { c.flushEvery, c.flushSet = n, true })
}

// WithLoggerProvider emits through p, a provider the caller configured and owns (exporters,
// processors and resource are p's). It cannot be combined with WithEndpoint, WithProtocol,
// WithHeaders, WithInsecure, WithTimeout, WithGzip, WithResource, WithSimpleProcessor or
// WithQueueSize; WithFlushEvery still applies (default: never).
// ForceFlush flushes p when p has a ForceFlush(context.Context) error method; Shutdown does not
// shut p down.
func WithLoggerProvider(p otellog.LoggerProvider) Option {
	return optionFunc(func(c *config) {
		if p == nil {
			c.errs = append(c.errs, errors.New("emit: nil logger provider"))
		}
		c.provider = p
	})
}
