package emit_test

import (
	"compress/gzip"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/coworkgov/cowork/internal/corpus"
	"github.com/coworkgov/cowork/telemetry"
	"github.com/coworkgov/cowork/telemetry/emit"
)

// capture collects the OTLP log requests a test server received, decoded by telemetry.
type capture struct {
	mu   sync.Mutex
	logs []*telemetry.Logs
	errs []error
}

func (c *capture) add(b []byte) {
	l, err := telemetry.DecodeLogsProto(b)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.logs = append(c.logs, l)
	if err != nil {
		c.errs = append(c.errs, err)
	}
}

func (c *capture) events() []telemetry.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []telemetry.Event
	for _, l := range c.logs {
		out = append(out, l.Events()...)
	}
	return out
}

// startHTTP serves OTLP/HTTP protobuf logs on 127.0.0.1 and records what arrives.
func startHTTP(t *testing.T) (*capture, string) {
	c := &capture{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/logs" || r.Header.Get("Content-Type") != "application/x-protobuf" {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = zr
		}
		b, err := io.ReadAll(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		c.add(b)
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return c, srv.URL
}

// logsService is an OTLP/gRPC logs service that records what arrives.
type logsService struct {
	collogspb.UnimplementedLogsServiceServer
	c *capture
}

func (s *logsService) Export(_ context.Context, req *collogspb.ExportLogsServiceRequest) (*collogspb.ExportLogsServiceResponse, error) {
	b, err := proto.Marshal(req)
	if err != nil {
		return nil, err
	}
	s.c.add(b)
	return &collogspb.ExportLogsServiceResponse{}, nil
}

// startGRPC serves OTLP/gRPC logs on 127.0.0.1:0.
func startGRPC(t *testing.T) (*capture, string) {
	c := &capture{}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer()
	collogspb.RegisterLogsServiceServer(srv, &logsService{c: c})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return c, lis.Addr().String()
}

// corpusEventsB decodes every log event of a scenario's protobuf files, in arrival order.
func corpusEventsB(t testing.TB, scenario string) []telemetry.Event {
	return corpusEventsEnc(t, corpus.Protobuf, scenario)
}

// corpusEventsEnc decodes every log event of a scenario in one encoding, in arrival order.
func corpusEventsEnc(t testing.TB, enc corpus.Encoding, scenario string) []telemetry.Event {
	var out []telemetry.Event
	for _, f := range corpus.Logs(enc, scenario) {
		decode := telemetry.DecodeLogsProto
		if enc == corpus.JSON {
			decode = telemetry.DecodeLogsJSON
		}
		l, err := decode(f.Data)
		require.NoError(t, err, f.Path())
		out = append(out, l.Events()...)
	}
	return out
}

func sortedAttrs(a telemetry.Attributes) telemetry.Attributes {
	out := a.Clone()
	slices.SortStableFunc(out, func(x, y telemetry.KeyValue) int {
		switch {
		case x.Key < y.Key:
			return -1
		case x.Key > y.Key:
			return 1
		}
		return 0
	})
	return out
}

// TestEmitCorpus emits every event of the real corpus through the OpenTelemetry Go SDK, over
// OTLP/HTTP and OTLP/gRPC, decodes what the SDK actually sent, and compares it with the corpus
// event by event.
func TestEmitCorpus(t *testing.T) {
	transports := []struct {
		name string
		opts func(t *testing.T) (*capture, []emit.Option)
	}{
		{"protocol=http/protobuf", func(t *testing.T) (*capture, []emit.Option) {
			c, url := startHTTP(t)
			return c, []emit.Option{emit.WithEndpoint(url), emit.WithProtocol(emit.ProtocolHTTPProtobuf)}
		}},
		{"protocol=http/protobuf/gzip/simple", func(t *testing.T) (*capture, []emit.Option) {
			c, url := startHTTP(t)
			return c, []emit.Option{emit.WithEndpoint(url), emit.WithGzip(), emit.WithSimpleProcessor()}
		}},
		{"protocol=grpc", func(t *testing.T) (*capture, []emit.Option) {
			c, addr := startGRPC(t)
			return c, []emit.Option{emit.WithEndpoint(addr), emit.WithProtocol(emit.ProtocolGRPC), emit.WithInsecure()}
		}},
	}
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			total := 0
			for _, sc := range scenariosBothEncodings() {
				t.Run("scenario="+sc.name+"/source="+string(sc.enc), func(t *testing.T) {
					want := corpusEventsEnc(t, sc.enc, sc.name)
					require.NotEmpty(t, want)
					c, opts := tr.opts(t)
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					e, err := emit.New(ctx, opts...)
					require.NoError(t, err)
					for _, ev := range want {
						require.NoError(t, e.Emit(ctx, ev))
					}
					require.NoError(t, e.ForceFlush(ctx))
					require.NoError(t, e.Shutdown(ctx))
					require.Empty(t, c.errs)

					got := c.events()
					require.Len(t, got, len(want))
					total += len(got)
					for i := range want {
						compareEvent(t, i, want[i], got[i])
					}
				})
			}
			t.Logf("%d corpus events compared", total)
		})
	}
}

type scenario struct {
	name string
	enc  corpus.Encoding
}

// scenariosBothEncodings lists every scenario decoded from protobuf and from JSON: both
// decodings must leave the SDK identically.
func scenariosBothEncodings() []scenario {
	var out []scenario
	for _, enc := range []corpus.Encoding{corpus.Protobuf, corpus.JSON} {
		for _, s := range corpus.Scenarios() {
			out = append(out, scenario{s, enc})
		}
	}
	return out
}

func compareEvent(t *testing.T, i int, want, got telemetry.Event) {
	t.Helper()
	w, g := want.EventRecord(), got.EventRecord()
	assert.Equal(t, want.Name(), got.Name(), "record %d: event name", i)
	assert.IsType(t, want, got, "record %d: typed event", i)
	assert.True(t, w.Body.Equal(g.Body), "record %d: body %v != %v", i, w.Body, g.Body)
	wa, ga := telemetry.AttributesOf(want), telemetry.AttributesOf(got)
	if !assert.True(t, wa.Equal(ga), "record %d (%s): attributes differ in order, type or value", i, want.Name()) {
		for j := range max(len(wa), len(ga)) {
			var wk, gk telemetry.KeyValue
			if j < len(wa) {
				wk = wa[j]
			}
			if j < len(ga) {
				gk = ga[j]
			}
			if wk.Key != gk.Key || !wk.Value.Equal(gk.Value) {
				t.Logf("  attr %d: want %s=%s, got %s=%s", j, wk.Key, wk.Value.Kind(), gk.Key, gk.Value.Kind())
			}
		}
	}
	assert.Equal(t, w.TimeUnixNano, g.TimeUnixNano, "record %d: timeUnixNano", i)
	assert.Equal(t, w.ObservedTimeUnixNano, g.ObservedTimeUnixNano, "record %d: observedTimeUnixNano", i)
	assert.Equal(t, w.SeverityNumber, g.SeverityNumber, "record %d: severity", i)
	assert.Equal(t, w.SeverityText, g.SeverityText, "record %d: severity text", i)
	assert.Equal(t, w.WireEventName, g.WireEventName, "record %d: OTLP event_name stays unset", i)
	assert.Equal(t, w.DroppedAttributesCount, g.DroppedAttributesCount, "record %d: dropped attributes", i)
	assert.True(t, g.TraceID.IsZero() && g.SpanID.IsZero(), "record %d: no trace context", i)
	assert.False(t, g.NameMismatch, "record %d: body and event.name agree", i)
	assert.Equal(t, w.Scope.Name, g.Scope.Name, "record %d: scope name", i)
	assert.Equal(t, w.Scope.Version, g.Scope.Version, "record %d: scope version", i)
	assert.Empty(t, g.Scope.Attrs, "record %d: scope attributes", i)
	// The SDK's resource is an attribute set, sorted by key: compare as sets, with types.
	assert.True(t, sortedAttrs(w.Resource.Attrs).Equal(sortedAttrs(g.Resource.Attrs)),
		"record %d: resource %v != %v", i, w.Resource.Attrs, g.Resource.Attrs)
	assert.Equal(t, w.Resource.Product(), g.Resource.Product(), "record %d: product", i)
	// Typed fields read the same.
	assert.Equal(t, w.Common, g.Common, "record %d: standard attributes", i)
}

// TestEmitKeepsWireTypes spells out the property the corpus test checks in bulk, on one event:
// numbers and booleans the CLI sends as strings stay strings.
func TestEmitKeepsWireTypes(t *testing.T) {
	c, url := startHTTP(t)
	ctx := context.Background()
	e, err := emit.New(ctx, emit.WithEndpoint(url), emit.WithSimpleProcessor())
	require.NoError(t, err)
	ev := &telemetry.ToolResult{ToolName: "Bash", ToolUseID: "toolu_01", Success: true, DurationMS: 49}
	ev.SessionID = "s"
	ev.Timestamp = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	require.NoError(t, e.Emit(ctx, ev))
	require.NoError(t, e.Shutdown(ctx))
	got := c.events()
	require.Len(t, got, 1)
	a := telemetry.AttributesOf(got[0])
	for key, kind := range map[string]telemetry.ValueKind{
		telemetry.KeyDurationMS: telemetry.ValueString,
		telemetry.KeySuccess:    telemetry.ValueString,
		telemetry.KeySequence:   telemetry.ValueInt,
	} {
		v, ok := a.Get(key)
		require.True(t, ok, key)
		assert.Equal(t, kind, v.Kind(), key)
	}
	v, _ := a.Get(telemetry.KeyDurationMS)
	assert.Equal(t, "49", v.Str())
	r := got[0].EventRecord()
	assert.Equal(t, "claude_code.tool_result", r.Body.Str())
	assert.Equal(t, uint64(ev.Timestamp.UnixNano()), r.TimeUnixNano, "record time from event.timestamp")
	assert.Equal(t, r.TimeUnixNano, r.ObservedTimeUnixNano)
	assert.Equal(t, "cowork", r.Resource.ServiceName, "default resource")
	assert.Equal(t, telemetry.LogsScopeName, r.Scope.Name)
}
