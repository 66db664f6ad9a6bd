package emit_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/coworkgov/cowork/telemetry"
	"github.com/coworkgov/cowork/telemetry/emit"
)

// Example emits one tool_result to an OTLP/HTTP endpoint (a local test server here) and shows
// what arrived: the CLI's body, scope and wire types.
func Example() {
	got := make(chan *telemetry.Logs, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		l, _ := telemetry.DecodeLogsProto(b)
		got <- l
	}))
	defer srv.Close()

	ctx := context.Background()
	e, err := emit.New(ctx,
		emit.WithEndpoint(srv.URL), // http:// implies WithInsecure; the path becomes /v1/logs
		emit.WithResourceAttributes(
			telemetry.KeyValue{Key: telemetry.KeyServiceName, Value: telemetry.String("cowork")},
			telemetry.KeyValue{Key: telemetry.KeyServiceVersion, Value: telemetry.String("1.22209.3")},
		),
		emit.WithScopeVersion("2.1.328"),
		emit.WithSimpleProcessor(),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	ev := &telemetry.ToolResult{ToolName: "Read", ToolUseID: "toolu_01A2b3", Success: true, DurationMS: 49}
	ev.SessionID = "5b2e9c74-1d3f-4a6b-8c0d-2e4f6a8b0c1d"
	ev.Timestamp = time.Date(2026, 11, 25, 9, 6, 42, 671e6, time.UTC)
	if err := e.Emit(ctx, ev); err != nil {
		fmt.Println(err)
	}
	if err := e.Shutdown(ctx); err != nil {
		fmt.Println(err)
	}

	l := <-got
	rl := l.ResourceLogs[0]
	sl := rl.ScopeLogs[0]
	rec := sl.Events[0].EventRecord()
	fmt.Println("resource:", rl.Resource.ServiceName, rl.Resource.ServiceVersion)
	fmt.Println("scope:", sl.Scope.Name, sl.Scope.Version)
	fmt.Println("body:", rec.Body)
	fmt.Println("time:", time.Unix(0, int64(rec.TimeUnixNano)).UTC().Format(time.RFC3339Nano))
	for _, kv := range rec.Attrs {
		fmt.Printf("%s = %s\n", kv.Key, kv.Value)
	}
	// Output:
	// resource: cowork 1.22209.3
	// scope: com.anthropic.claude_code.events 2.1.328
	// body: string("claude_code.tool_result")
	// time: 2026-11-25T09:06:42.671Z
	// session.id = string("5b2e9c74-1d3f-4a6b-8c0d-2e4f6a8b0c1d")
	// event.name = string("tool_result")
	// event.timestamp = string("2026-11-25T09:06:42.671Z")
	// event.sequence = int(0)
	// tool_name = string("Read")
	// tool_use_id = string("toolu_01A2b3")
	// success = string("true")
	// duration_ms = string("49")
}
