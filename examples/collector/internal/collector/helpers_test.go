package collector_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/coworkgov/cowork/examples/collector/internal/collector"
)

// storedEvents returns the number of events in c's store.
func storedEvents(tb testing.TB, c *collector.Collector) int64 {
	tb.Helper()
	return apiStats(tb, c)["events"]
}

func apiStats(tb testing.TB, c *collector.Collector) map[string]int64 {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, "/api/stats", nil)
	require.NoError(tb, err)
	w := httptest.NewRecorder()
	c.Handler().ServeHTTP(w, req)
	require.Equal(tb, http.StatusOK, w.Code)
	var s map[string]int64
	require.NoError(tb, json.Unmarshal(w.Body.Bytes(), &s))
	return s
}

// serveGRPC serves c on loopback HTTP and gRPC listeners until the test ends (then shuts it
// down and checks Serve's result) and returns an OTLP logs client connected to its gRPC side
// and the base URL of its HTTP side.
func serveGRPC(t *testing.T, c *collector.Collector) (collogspb.LogsServiceClient, string) {
	t.Helper()
	httpLn, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	grpcLn, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- c.Serve(httpLn, grpcLn) }()
	conn, err := grpc.NewClient(grpcLn.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() {
		conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, c.Shutdown(ctx))
		require.NoError(t, <-done)
	})
	return collogspb.NewLogsServiceClient(conn), "http://" + httpLn.Addr().String()
}
