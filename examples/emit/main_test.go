package main

import (
	"bytes"
	"context"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/grpc"

	"github.com/coworkgov/cowork/telemetry/telemetrytest"
)

func TestRunLocal(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-users", "2", "-sessions", "1", "-seed", "1"}, &out))
	assert.Equal(t, `emitted 80 events from 2 sessions of 2 users (http/protobuf), cost $0.487243
received 80 events, cost $0.487243
  api_request                23
  assistant_response         10
  managed_settings_resolved  2
  mcp_server_connection      2
  plugin_loaded              10
  skill_activated            1
  subagent_completed         2
  tool_decision              12
  tool_result                10
  user_prompt                8
`, out.String())
}

func TestRunEndpoint(t *testing.T) {
	rcv := telemetrytest.NewReceiver()
	defer rcv.Close()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-endpoint", rcv.URL(), "-header", "Authorization=Bearer t", "-users", "1"}, &out))
	assert.Contains(t, out.String(), "emitted ")
	assert.Positive(t, rcv.Len())
	reqs := rcv.Requests()
	require.NotEmpty(t, reqs)
	assert.Equal(t, "Bearer t", reqs[0].Header.Get("Authorization"))
	assert.NoError(t, rcv.Errors())
}

type grpcLogs struct {
	collogspb.UnimplementedLogsServiceServer
	n int
}

func (g *grpcLogs) Export(_ context.Context, req *collogspb.ExportLogsServiceRequest) (*collogspb.ExportLogsServiceResponse, error) {
	for _, rl := range req.ResourceLogs {
		for _, sl := range rl.ScopeLogs {
			g.n += len(sl.LogRecords)
		}
	}
	return &collogspb.ExportLogsServiceResponse{}, nil
}

func TestRunGRPC(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer()
	svc := &grpcLogs{}
	collogspb.RegisterLogsServiceServer(srv, svc)
	go func() { _ = srv.Serve(lis) }()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-endpoint", lis.Addr().String(), "-protocol", "grpc", "-insecure", "-users", "1", "-sessions", "1"}, &out))
	srv.GracefulStop()
	assert.Contains(t, out.String(), "(grpc)")
	assert.Positive(t, svc.n)
}

func TestRunErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-protocol", "http/json", "-endpoint", "http://127.0.0.1:1"},
		{"-protocol", "grpc"},
		{"-header", "novalue"},
		{"-bogus"},
	} {
		var out bytes.Buffer
		assert.Error(t, run(context.Background(), args, &out), "%v", args)
	}
}
