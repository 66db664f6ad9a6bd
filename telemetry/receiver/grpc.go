package receiver

import (
	"context"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	_ "google.golang.org/grpc/encoding/gzip" // OTLP exporters may compress with gzip
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
)

// grpcService is what the service descriptors below dispatch to.
type grpcService interface {
	// admitGRPC checks the caller's token before the request is decoded.
	admitGRPC(ctx context.Context, sig Signal) error
	// refuseGRPC answers (and counts) a request refused before exportGRPC.
	refuseGRPC(sig Signal, out outcome) error
	exportGRPC(ctx context.Context, sig Signal, body []byte) (proto.Message, error)
}

// RegisterGRPC registers the OTLP/gRPC LogsService and MetricsService
// (opentelemetry.proto.collector.{logs,metrics}.v1) on s. The request bytes are handed to the
// package's own decoders as they arrived, without an intermediate protobuf message tree.
// Create s with [Receiver.GRPCServerOptions] so that message sizes are bounded the same way as
// over HTTP. The bearer token is checked from the call's headers before the message is read
// (grpc-go runs a unary handler before it receives the message): a caller without it is
// refused whatever it sends, and its message is neither decompressed nor decoded.
func (r *Receiver) RegisterGRPC(s grpc.ServiceRegistrar) {
	s.RegisterService(&logsDesc, r)
	s.RegisterService(&metricsDesc, r)
}

// GRPCServerOptions returns the server options that apply the receiver's limits to a gRPC
// server: the largest message (after decompression) is MaxDecompressedBytes.
func (r *Receiver) GRPCServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(int(r.opts.MaxDecompressedBytes)),
	}
}

func (r *Receiver) admitGRPC(ctx context.Context, sig Signal) error {
	auth := ""
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get("authorization"); len(v) > 0 {
			auth = v[0]
		}
	}
	if !r.authorized(auth) {
		return r.refuseGRPC(sig, outcome{kind: outcomeUnauthorized, msg: "missing or wrong bearer token"})
	}
	return nil
}

func (r *Receiver) refuseGRPC(sig Signal, out outcome) error {
	r.count(sig, out)
	return grpcStatus(out).Err()
}

// grpcStatus is the status of a refused request, with RetryInfo when it is to be retried.
func grpcStatus(out outcome) *status.Status {
	st := status.New(grpcCode(out.kind), out.msg)
	if out.kind == outcomeSaturated || out.kind == outcomeUnavailable {
		secs := retrySeconds(out.after)
		d, _ := time.ParseDuration(secs + "s")
		if ds, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(d)}); err == nil {
			st = ds
		}
	}
	return st
}

func (r *Receiver) exportGRPC(ctx context.Context, sig Signal, body []byte) (proto.Message, error) {
	out := r.serveGRPC(ctx, sig, body)
	r.count(sig, out)
	if out.kind != outcomeOK {
		return nil, grpcStatus(out).Err()
	}
	if sig == SignalMetrics {
		resp := &colmetricspb.ExportMetricsServiceResponse{}
		if out.rejected > 0 || out.msg != "" {
			resp.PartialSuccess = &colmetricspb.ExportMetricsPartialSuccess{RejectedDataPoints: out.rejected, ErrorMessage: out.msg}
		}
		return resp, nil
	}
	resp := &collogspb.ExportLogsServiceResponse{}
	if out.rejected > 0 || out.msg != "" {
		resp.PartialSuccess = &collogspb.ExportLogsPartialSuccess{RejectedLogRecords: out.rejected, ErrorMessage: out.msg}
	}
	return resp, nil
}

// serveGRPC serves a request whose caller admitGRPC has let in.
func (r *Receiver) serveGRPC(ctx context.Context, sig Signal, body []byte) outcome {
	if int64(len(body)) > r.opts.MaxDecompressedBytes {
		return outcome{kind: outcomeTooLarge, msg: "message too large"}
	}
	if !r.acquire() {
		return outcome{kind: outcomeUnavailable, msg: "too many concurrent requests", after: r.opts.RetryAfter}
	}
	defer r.release()
	return r.process(ctx, sig, body, false)
}

// rawHandler decodes the request into an Empty message, which keeps every field as unknown
// bytes: exactly the request's wire form, handed to the decoder untouched. The token is
// checked first. A message that is not protobuf at all fails in dec, where grpc-go has
// already answered INTERNAL (which exporters do not retry, as INVALID_ARGUMENT): it is
// counted as malformed.
func rawHandler(sig Signal, method string) func(any, context.Context, func(any) error, grpc.UnaryServerInterceptor) (any, error) {
	return func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
		svc := srv.(grpcService)
		if err := svc.admitGRPC(ctx, sig); err != nil {
			return nil, err
		}
		in := new(emptypb.Empty)
		if err := dec(in); err != nil {
			_ = svc.refuseGRPC(sig, outcome{kind: outcomeMalformed, msg: "malformed request"})
			return nil, err
		}
		call := func(ctx context.Context, req any) (any, error) {
			return svc.exportGRPC(ctx, sig, req.(*emptypb.Empty).ProtoReflect().GetUnknown())
		}
		if interceptor == nil {
			return call(ctx, in)
		}
		return interceptor(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: method}, call)
	}
}

var logsDesc = grpc.ServiceDesc{
	ServiceName: "opentelemetry.proto.collector.logs.v1.LogsService",
	HandlerType: (*grpcService)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Export",
		Handler:    rawHandler(SignalLogs, collogspb.LogsService_Export_FullMethodName),
	}},
	Metadata: "opentelemetry/proto/collector/logs/v1/logs_service.proto",
}

var metricsDesc = grpc.ServiceDesc{
	ServiceName: "opentelemetry.proto.collector.metrics.v1.MetricsService",
	HandlerType: (*grpcService)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Export",
		Handler:    rawHandler(SignalMetrics, colmetricspb.MetricsService_Export_FullMethodName),
	}},
	Metadata: "opentelemetry/proto/collector/metrics/v1/metrics_service.proto",
}
