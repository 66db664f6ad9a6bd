package receiver

import (
	"errors"
	"strconv"
	"time"
)

// Sentinel errors. A [Consumer] returns (or wraps) them to choose the response; test with
// errors.Is.
var (
	// ErrSaturated means the consumer cannot take the batch now but will soon: the receiver
	// answers 429 Too Many Requests with Retry-After (gRPC RESOURCE_EXHAUSTED with RetryInfo),
	// and the exporter retries.
	ErrSaturated = errors.New("receiver: consumer saturated")
	// ErrUnavailable means the consumer is shutting down or its storage is failing: the
	// receiver answers 503 Service Unavailable with Retry-After (gRPC UNAVAILABLE).
	ErrUnavailable = errors.New("receiver: consumer unavailable")
	// ErrInvalid means the consumer refuses the batch for good (a permanent error): the
	// receiver answers 400 Bad Request (gRPC INVALID_ARGUMENT) and the exporter drops it.
	ErrInvalid = errors.New("receiver: invalid data")
	// ErrInvalidOption is returned by [New] for an option out of range.
	ErrInvalidOption = errors.New("receiver: invalid option")
)

// RetryError asks the client to retry after a given delay. Wrap [ErrSaturated] or
// [ErrUnavailable] in it to override [Options].RetryAfter for one response.
type RetryError struct {
	// Err is the cause, normally ErrSaturated or ErrUnavailable; anything else is treated as
	// ErrUnavailable.
	Err error
	// After is the delay sent in Retry-After (rounded up to whole seconds, at least 1).
	After time.Duration
}

// Error is the cause with the delay the client is asked to wait.
func (e *RetryError) Error() string {
	msg := "receiver: retry"
	if e.Err != nil {
		msg = e.Err.Error()
	}
	return msg + " (retry after " + e.After.String() + ")"
}

// Unwrap returns the cause.
func (e *RetryError) Unwrap() error { return e.Err }

// PartialError reports that the consumer accepted a batch except for some records. The
// receiver answers success with partial_success carrying Rejected and Message (added to any
// records the decoder already rejected). Message must not contain event content.
type PartialError struct {
	// Rejected is the number of log records or metric data points refused.
	Rejected int64
	// Message says why, e.g. "3 records lack session.id".
	Message string
}

// Error is the number of records rejected and why.
func (e *PartialError) Error() string {
	return "receiver: " + strconv.FormatInt(e.Rejected, 10) + " records rejected: " + e.Message
}
