package receiver

import (
	"context"

	"github.com/coworkgov/cowork/telemetry"
)

// Consumer takes the batches a [Receiver] decodes. Each method is called once per request
// that decoded at least one record, from the request's goroutine, so calls come concurrently
// (up to [Options].MaxConcurrent at once): implementations must be safe for concurrent use.
//
// A method may block (that is back-pressure on the exporter) and should return when ctx ends;
// ctx ends when the client goes away or the request's time is up. The batch belongs to the
// consumer from the call on; the receiver does not touch it afterwards.
//
// The returned error chooses the response:
//
//   - nil acknowledges the whole batch: only return nil once it is safe (stored, queued
//     durably, or whatever the consumer promises).
//   - a [*PartialError] acknowledges all but some records, answered as partial_success.
//   - [ErrSaturated] or [ErrUnavailable], possibly in a [*RetryError], ask the client to
//     retry later (429/503 with Retry-After).
//   - [ErrInvalid] refuses the batch for good (400).
//   - any other error, including ctx's, answers 503 with Retry-After, so a failing consumer
//     never loses data silently; it is logged without event content.
type Consumer interface {
	// ConsumeLogs takes the log events of one ExportLogsServiceRequest.
	ConsumeLogs(ctx context.Context, logs *telemetry.Logs) error
	// ConsumeMetrics takes the data points of one ExportMetricsServiceRequest.
	ConsumeMetrics(ctx context.Context, metrics *telemetry.Metrics) error
}

// Funcs adapts functions to [Consumer]. A nil field acknowledges its signal's batches without
// doing anything with them, which suits receivers that only want one signal.
type Funcs struct {
	Logs    func(ctx context.Context, logs *telemetry.Logs) error
	Metrics func(ctx context.Context, metrics *telemetry.Metrics) error
}

var _ Consumer = Funcs{}

// ConsumeLogs calls f.Logs, or returns nil when it is nil.
func (f Funcs) ConsumeLogs(ctx context.Context, logs *telemetry.Logs) error {
	if f.Logs == nil {
		return nil
	}
	return f.Logs(ctx, logs)
}

// ConsumeMetrics calls f.Metrics, or returns nil when it is nil.
func (f Funcs) ConsumeMetrics(ctx context.Context, metrics *telemetry.Metrics) error {
	if f.Metrics == nil {
		return nil
	}
	return f.Metrics(ctx, metrics)
}
