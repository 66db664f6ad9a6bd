package receiver_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"

	"github.com/coworkgov/cowork/internal/corpus"
	"github.com/coworkgov/cowork/telemetry"
	"github.com/coworkgov/cowork/telemetry/receiver"
)

func grpcClient(t *testing.T, c receiver.Consumer, opts receiver.Options) (*grpc.ClientConn, *receiver.Receiver) {
	t.Helper()
	r, err := receiver.New(c, opts)
	require.NoError(t, err)
	lis := bufconn.Listen(1 << 20)
	s := grpc.NewServer(r.GRPCServerOptions()...)
	r.RegisterGRPC(s)
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn, r
}

func TestGRPC(t *testing.T) {
	logsFile := corpusFile(t, corpus.Protobuf, "logs")
	want, err := telemetry.DecodeLogsProto(logsFile.Data)
	require.NoError(t, err)
	var req collogspb.ExportLogsServiceRequest
	require.NoError(t, proto.Unmarshal(logsFile.Data, &req))
	var mreq colmetricspb.ExportMetricsServiceRequest
	require.NoError(t, proto.Unmarshal(corpusFile(t, corpus.Protobuf, "metrics").Data, &mreq))

	t.Run("logs and metrics, gzip, with token", func(t *testing.T) {
		s := &sink{}
		conn, r := grpcClient(t, s, receiver.Options{Token: "tok"})
		ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer tok")
		resp, err := collogspb.NewLogsServiceClient(conn).Export(ctx, &req, grpc.UseCompressor(gzip.Name))
		require.NoError(t, err)
		assert.Nil(t, resp.GetPartialSuccess())
		assert.Equal(t, want.Len(), s.events)
		_, err = colmetricspb.NewMetricsServiceClient(conn).Export(ctx, &mreq)
		require.NoError(t, err)
		assert.Positive(t, s.points)
		assert.Equal(t, int64(2), r.Stats().Requests)
	})
	t.Run("unauthenticated", func(t *testing.T) {
		s := &sink{}
		conn, _ := grpcClient(t, s, receiver.Options{Token: "tok"})
		ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer nope")
		_, err := collogspb.NewLogsServiceClient(conn).Export(ctx, &req)
		assert.Equal(t, codes.Unauthenticated, status.Code(err))
		assert.Zero(t, s.events)
	})
	t.Run("saturated consumer carries RetryInfo", func(t *testing.T) {
		conn, _ := grpcClient(t, &sink{err: receiver.ErrSaturated}, receiver.Options{})
		_, err := collogspb.NewLogsServiceClient(conn).Export(context.Background(), &req)
		st := status.Convert(err)
		assert.Equal(t, codes.ResourceExhausted, st.Code())
		var found bool
		for _, d := range st.Details() {
			if ri, ok := d.(*errdetails.RetryInfo); ok {
				found = true
				assert.Equal(t, int64(1), ri.GetRetryDelay().GetSeconds())
			}
		}
		assert.True(t, found, "RESOURCE_EXHAUSTED without RetryInfo is not retried by OTLP exporters")
	})
	t.Run("unavailable consumer", func(t *testing.T) {
		conn, _ := grpcClient(t, &sink{err: receiver.ErrUnavailable}, receiver.Options{})
		_, err := collogspb.NewLogsServiceClient(conn).Export(context.Background(), &req)
		assert.Equal(t, codes.Unavailable, status.Code(err))
	})
	t.Run("message over the limit", func(t *testing.T) {
		s := &sink{}
		conn, _ := grpcClient(t, s, receiver.Options{MaxDecompressedBytes: 256})
		_, err := collogspb.NewLogsServiceClient(conn).Export(context.Background(), &req)
		assert.Equal(t, codes.ResourceExhausted, status.Code(err))
		assert.Zero(t, s.events)
	})
	t.Run("not protobuf", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			opts receiver.Options
			auth string
			want codes.Code
		}{
			// grpc-go answers INTERNAL itself when the message does not parse, before the
			// handler can choose: not retried either, and counted.
			{"is refused for good", receiver.Options{}, "", codes.Internal},
			{"without the token is UNAUTHENTICATED", receiver.Options{Token: "tok"}, "Bearer nope", codes.Unauthenticated},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := &sink{}
				conn, r := grpcClient(t, s, tc.opts)
				ctx := context.Background()
				if tc.auth != "" {
					ctx = metadata.AppendToOutgoingContext(ctx, "authorization", tc.auth)
				}
				in, out := []byte{0xff, 0xff, 0xff}, []byte(nil)
				err := conn.Invoke(ctx, collogspb.LogsService_Export_FullMethodName, &in, &out, grpc.ForceCodecV2(rawCodec{}))
				assert.Equal(t, tc.want, status.Code(err), err)
				assert.Zero(t, s.events)
				// grpc-go sends its answer before the handler has counted the refusal.
				require.Eventually(t, func() bool { return r.Stats().Requests == 1 }, 10*time.Second, time.Millisecond, "counted as any refusal")
				assert.Len(t, r.Stats().Refused, 1)
			})
		}
	})
	t.Run("partial success", func(t *testing.T) {
		c := receiver.Funcs{Logs: func(context.Context, *telemetry.Logs) error {
			return &receiver.PartialError{Rejected: 1, Message: "one bad"}
		}}
		conn, _ := grpcClient(t, c, receiver.Options{})
		resp, err := collogspb.NewLogsServiceClient(conn).Export(context.Background(), &req)
		require.NoError(t, err)
		assert.Equal(t, int64(1), resp.GetPartialSuccess().GetRejectedLogRecords())
		assert.Equal(t, "one bad", resp.GetPartialSuccess().GetErrorMessage())
	})
}

// rawCodec sends a *[]byte as the message's bytes, whatever they are.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(*v.(*[]byte))}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*v.(*[]byte) = data.Materialize()
	return nil
}

func (rawCodec) Name() string { return "proto" }
