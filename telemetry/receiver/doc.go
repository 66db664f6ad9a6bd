// Package receiver receives OpenTelemetry log events and metrics from Claude Cowork and Claude
// Code over OTLP, and hands decoded batches to a [Consumer].
//
// A [Receiver], created with [New], serves both OTLP transports:
//
//   - OTLP/HTTP: it is an [net/http.Handler] for POST /v1/logs and POST /v1/metrics, with
//     protobuf (application/x-protobuf) or JSON (application/json) bodies chosen by
//     Content-Type, optionally gzip-compressed (Content-Encoding: gzip).
//   - OTLP/gRPC: [Receiver.RegisterGRPC] registers the collector LogsService and
//     MetricsService on a [google.golang.org/grpc.Server]; [Receiver.GRPCServerOptions] gives
//     the matching server limits.
//
// The receiver follows the OTLP response rules and never drops data silently:
//
//   - A request whose records all decode and are accepted gets an empty success response.
//   - A request with some bad records gets success with partial_success: the number of
//     records rejected and a message naming what was wrong; the good records are consumed.
//   - A malformed request is refused with 400 (gRPC INVALID_ARGUMENT), a body over
//     [Options].MaxBodyBytes or one that decompresses past [Options].MaxDecompressedBytes
//     with 413, an unsupported Content-Type or Content-Encoding with 415, a request without
//     the configured bearer token with 401 (UNAUTHENTICATED), checked in constant time.
//   - When the consumer is saturated ([ErrSaturated]) or unavailable ([ErrUnavailable]), or
//     more than [Options].MaxConcurrent requests are in flight, or a body is not read within
//     [Options].ReadTimeout, the answer is 429 or 503 with a Retry-After header (gRPC
//     RESOURCE_EXHAUSTED or UNAVAILABLE with RetryInfo), which OTLP exporters retry.
//   - Every answer, refusals included, is in the request's encoding: a JSON request gets a
//     JSON body. Media types and content codings are matched case-insensitively.
//
// The consumer acknowledges a batch by returning nil: the receiver answers success only then,
// so a consumer that stores events before returning gives at-least-once delivery end to end.
package receiver
