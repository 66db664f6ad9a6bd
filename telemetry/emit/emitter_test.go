package emit_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/coworkgov/cowork/telemetry"
	"github.com/coworkgov/cowork/telemetry/emit"
)

func TestProtocol(t *testing.T) {
	for _, p := range []emit.Protocol{emit.ProtocolHTTPProtobuf, emit.ProtocolGRPC, emit.ProtocolHTTPJSON} {
		assert.Equal(t, p, emit.ParseProtocol(p.String()))
	}
	assert.Equal(t, emit.ProtocolUnknown, emit.ParseProtocol("thrift"))
	assert.Equal(t, "", emit.Protocol(99).String())
}

func TestNewErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		opts []emit.Option
		want error
	}{
		{"http/json", []emit.Option{emit.WithProtocol(emit.ProtocolHTTPJSON)}, emit.ErrUnsupportedProtocol},
		{"unknown protocol", []emit.Option{emit.WithProtocol(emit.Protocol(42))}, emit.ErrUnsupportedProtocol},
		{"provider and endpoint", []emit.Option{emit.WithLoggerProvider(sdklog.NewLoggerProvider()), emit.WithEndpoint("x:1")}, emit.ErrInvalidOption},
		{"provider and resource", []emit.Option{emit.WithLoggerProvider(sdklog.NewLoggerProvider()), emit.WithResourceAttributes()}, emit.ErrInvalidOption},
		{"nil provider", []emit.Option{emit.WithLoggerProvider(nil)}, emit.ErrInvalidOption},
		{"zero timeout", []emit.Option{emit.WithTimeout(0)}, emit.ErrInvalidOption},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := emit.New(ctx, tt.opts...)
			assert.Nil(t, e)
			assert.ErrorIs(t, err, tt.want)
		})
	}
}

func TestShutdown(t *testing.T) {
	c, url := startHTTP(t)
	ctx := context.Background()
	e, err := emit.New(ctx, emit.WithEndpoint(url))
	require.NoError(t, err)
	assert.Equal(t, emit.ProtocolHTTPProtobuf, e.Protocol(), "the default protocol")
	ev := telemetry.New(telemetry.NameUserPrompt)
	require.NoError(t, e.Emit(ctx, ev))
	require.NoError(t, e.Shutdown(ctx), "shutdown flushes")
	assert.Len(t, c.events(), 1)
	assert.ErrorIs(t, e.Emit(ctx, ev), emit.ErrShutdown)
	assert.ErrorIs(t, e.ForceFlush(ctx), emit.ErrShutdown)
	assert.NoError(t, e.Shutdown(ctx), "a second shutdown does nothing")
}

// memExporter records what a caller-owned provider exports.
type memExporter struct {
	mu   sync.Mutex
	recs []sdklog.Record
}

func (m *memExporter) Export(_ context.Context, recs []sdklog.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range recs {
		m.recs = append(m.recs, r.Clone())
	}
	return nil
}
func (m *memExporter) Shutdown(context.Context) error   { return nil }
func (m *memExporter) ForceFlush(context.Context) error { return nil }

func TestWithLoggerProvider(t *testing.T) {
	exp := &memExporter{}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)))
	ctx := context.Background()
	e, err := emit.New(ctx, emit.WithLoggerProvider(lp))
	require.NoError(t, err)
	assert.Equal(t, emit.ProtocolUnknown, e.Protocol())
	up := &telemetry.UserPrompt{Prompt: "hi", PromptLength: 2}
	up.SessionID = "s"
	require.NoError(t, e.Emit(ctx, up))
	require.NoError(t, e.ForceFlush(ctx), "flushes the caller's provider")
	require.Len(t, exp.recs, 1)
	r := exp.recs[0]
	assert.Equal(t, "claude_code.user_prompt", r.Body().AsString())
	assert.Equal(t, telemetry.LogsScopeName, r.InstrumentationScope().Name)
	require.NoError(t, e.Shutdown(ctx))
	// The provider is the caller's: still usable after the Emitter's shutdown.
	assert.NoError(t, lp.ForceFlush(ctx))
}

func TestEmitResourcesAndConcurrency(t *testing.T) {
	c, url := startHTTP(t)
	ctx := context.Background()
	e, err := emit.New(ctx, emit.WithEndpoint(url), emit.WithScopeVersion("9.9.9"))
	require.NoError(t, err)
	res := []*telemetry.Resource{
		{Attrs: telemetry.Attributes{{Key: telemetry.KeyServiceName, Value: telemetry.String("cowork")}}},
		{Attrs: telemetry.Attributes{{Key: telemetry.KeyServiceName, Value: telemetry.String("claude-code")}}},
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 25 {
				ev := telemetry.New(telemetry.NameAPIRequest)
				ev.EventRecord().SessionID = "s"
				ev.EventRecord().Sequence = int64(i)
				ev.EventRecord().Resource = res[w%2]
				assert.NoError(t, e.Emit(ctx, ev))
			}
		})
	}
	wg.Wait()
	require.NoError(t, e.Shutdown(ctx))
	got := c.events()
	require.Len(t, got, 200)
	byProduct := map[telemetry.Product]int{}
	for _, ev := range got {
		byProduct[ev.EventRecord().Product()]++
		assert.Equal(t, "9.9.9", ev.EventRecord().Scope.Version)
	}
	assert.Equal(t, map[telemetry.Product]int{telemetry.ProductCowork: 100, telemetry.ProductClaudeCode: 100}, byProduct)
}

// TestEmitBackPressure shows the default flushing: a producer that outruns a slow exporter
// through a small queue loses nothing, and export errors come back from Emit.
func TestEmitBackPressure(t *testing.T) {
	c, url := startHTTP(t)
	ctx := context.Background()
	e, err := emit.New(ctx, emit.WithEndpoint(url), emit.WithQueueSize(16))
	require.NoError(t, err)
	for i := range 1000 {
		ev := telemetry.New(telemetry.NameAPIRequest)
		ev.EventRecord().SessionID = "s"
		ev.EventRecord().Sequence = int64(i)
		require.NoError(t, e.Emit(ctx, ev))
	}
	require.NoError(t, e.Shutdown(ctx))
	got := c.events()
	require.Len(t, got, 1000, "nothing dropped")
	for i, ev := range got {
		assert.Equal(t, int64(i), ev.EventRecord().Sequence, "in order")
	}

	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no", http.StatusBadRequest)
	}))
	defer refuse.Close()
	e, err = emit.New(ctx, emit.WithEndpoint(refuse.URL), emit.WithFlushEvery(3))
	require.NoError(t, err)
	var errs []error
	for range 6 {
		errs = append(errs, e.Emit(ctx, telemetry.New(telemetry.NameUserPrompt)))
	}
	assert.NoError(t, errs[0])
	assert.Error(t, errs[2], "the third event flushes and reports the refused export")
	assert.Error(t, errs[5])
	_ = e.Shutdown(ctx)

	_, err = emit.New(ctx, emit.WithQueueSize(0))
	assert.ErrorIs(t, err, emit.ErrInvalidOption)
}
