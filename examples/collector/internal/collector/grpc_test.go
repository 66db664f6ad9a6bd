package collector_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/grpc/codes"
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

	client, url := serveGRPC(t, c)
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
	require.Equal(t, 200, getJSON(t, url+"/api/stats", &st, "Authorization", "Bearer tok"))
	assert.Equal(t, int64(decodeFile(t, f).Len()), st["events"])
}
