package collector_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/coworkgov/cowork/examples/collector/internal/collector"
	"github.com/coworkgov/cowork/internal/corpus"
)

// TestGRPC exports over OTLP/gRPC to a served collector, with the token.
func TestGRPC(t *testing.T) {
	cfg := fastChains(t.TempDir())
	cfg.Token = "tok"
	c, err := collector.New(context.Background(), cfg)
	require.NoError(t, err)
	httpLn, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	grpcLn, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- c.Serve(httpLn, grpcLn) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, c.Shutdown(ctx))
		require.NoError(t, <-done)
	}()

	conn, err := grpc.NewClient(grpcLn.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	client := collogspb.NewLogsServiceClient(conn)
	f := corpus.Logs(corpus.Protobuf, "skill")[0]
	var req collogspb.ExportLogsServiceRequest
	require.NoError(t, proto.Unmarshal(f.Data, &req))

	_, err = client.Export(context.Background(), &req)
	assert.Equal(t, codes.Unauthenticated, status.Code(err))
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer tok")
	resp, err := client.Export(ctx, &req)
	require.NoError(t, err)
	assert.Nil(t, resp.GetPartialSuccess())
	var st map[string]int64
	require.Equal(t, 200, getJSON(t, "http://"+httpLn.Addr().String()+"/api/stats", &st, "Authorization", "Bearer tok"))
	assert.Equal(t, int64(decodeFile(t, f).Len()), st["events"])
}
