package emit_test

import (
	"context"
	"testing"

	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/coworkgov/cowork/telemetry"
	"github.com/coworkgov/cowork/telemetry/emit"
)

type discardExporter struct{}

func (discardExporter) Export(context.Context, []sdklog.Record) error { return nil }
func (discardExporter) Shutdown(context.Context) error                { return nil }
func (discardExporter) ForceFlush(context.Context) error              { return nil }

// BenchmarkEmit measures converting corpus events and handing them to the SDK (batch
// processor, discarding exporter): the cost Emit adds to a producer.
func BenchmarkEmit(b *testing.B) {
	var events []telemetry.Event
	for _, s := range []string{"files", "mcp", "skill"} {
		events = append(events, corpusEventsB(b, s)...)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(discardExporter{})))
	ctx := context.Background()
	e, err := emit.New(ctx, emit.WithLoggerProvider(lp))
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = lp.Shutdown(ctx) }()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if err := e.Emit(ctx, events[n%len(events)]); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}
