package receiver

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coworkgov/cowork/telemetry"
)

// Receiver receives OTLP logs and metrics over HTTP and gRPC and hands them to a [Consumer];
// see the package documentation for the protocol. It must be created with [New]; it is safe
// for concurrent use, and one Receiver may serve HTTP and gRPC at once, sharing its limits.
type Receiver struct {
	consumer Consumer
	opts     Options
	token    [sha256.Size]byte // sha256 of "Bearer <token>", compared in constant time
	sem      chan struct{}
	st       counters
}

// Signal names what a request carries.
type Signal uint8

// The signals.
const (
	SignalUnknown Signal = iota
	SignalLogs
	SignalMetrics
)

// String returns "logs", "metrics" or "" for SignalUnknown.
func (s Signal) String() string {
	switch s {
	case SignalLogs:
		return "logs"
	case SignalMetrics:
		return "metrics"
	}
	return ""
}

// New returns a receiver that hands batches to consumer.
func New(consumer Consumer, opts Options) (*Receiver, error) {
	if consumer == nil {
		return nil, errors.Join(ErrInvalidOption, errors.New("receiver: nil consumer"))
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	r := &Receiver{consumer: consumer, opts: o, sem: make(chan struct{}, o.MaxConcurrent)}
	if o.Token != "" {
		r.token = sha256.Sum256([]byte("Bearer " + o.Token))
	}
	return r, nil
}

// authorized reports whether the Authorization value carries the configured token. Both sides
// are hashed first so the comparison takes the same time whatever the lengths.
func (r *Receiver) authorized(header string) bool {
	if r.opts.Token == "" {
		return true
	}
	// The scheme is case-insensitive (RFC 9110); normalise it before hashing.
	if len(header) > 7 && strings.EqualFold(header[:7], "bearer ") {
		header = "Bearer " + strings.TrimLeft(header[7:], " ")
	}
	got := sha256.Sum256([]byte(header))
	return subtle.ConstantTimeCompare(got[:], r.token[:]) == 1
}

// acquire takes a concurrency slot without waiting.
func (r *Receiver) acquire() bool {
	select {
	case r.sem <- struct{}{}:
		r.st.inFlight.Add(1)
		return true
	default:
		return false
	}
}

func (r *Receiver) release() {
	r.st.inFlight.Add(-1)
	<-r.sem
}

// outcomeKind classifies the answer to one request.
type outcomeKind uint8

const (
	outcomeOK outcomeKind = iota
	outcomeUnauthorized
	outcomeUnsupported
	outcomeTooLarge
	outcomeMalformed
	outcomeTimeout
	outcomeSaturated
	outcomeUnavailable
	outcomeNotFound
	outcomeMethod
)

// outcome is the result of decoding and consuming one request.
type outcome struct {
	kind     outcomeKind
	accepted int64 // records acknowledged
	rejected int64 // records refused (partial success)
	msg      string
	after    time.Duration
}

// maxMessageErrors bounds how many decode errors a partial_success message lists.
const maxMessageErrors = 5

// process decodes body and hands it to the consumer.
func (r *Receiver) process(ctx context.Context, sig Signal, body []byte, json bool) outcome {
	var (
		n      int
		decErr error
		call   func() error
	)
	switch sig {
	case SignalLogs:
		var l *telemetry.Logs
		if json {
			l, decErr = r.opts.Decode.DecodeLogsJSON(body)
		} else {
			l, decErr = r.opts.Decode.DecodeLogsProto(body)
		}
		n = l.Len()
		call = func() error { return r.consumer.ConsumeLogs(ctx, l) }
	case SignalMetrics:
		var m *telemetry.Metrics
		if json {
			m, decErr = r.opts.Decode.DecodeMetricsJSON(body)
		} else {
			m, decErr = r.opts.Decode.DecodeMetricsProto(body)
		}
		n = m.Len()
		call = func() error { return r.consumer.ConsumeMetrics(ctx, m) }
	default:
		return outcome{kind: outcomeNotFound, msg: "unknown signal"}
	}
	var out outcome
	if decErr != nil {
		des := telemetry.DecodeErrors(decErr)
		// What each bad record made the decoder skip (a metric dropped whole skips all its
		// data points), counted once per record.
		bad := map[int]int{}
		var msgs []string
		for _, de := range des {
			if de.Record < 0 {
				kind := outcomeMalformed
				if errors.Is(de, telemetry.ErrTooLarge) {
					kind = outcomeTooLarge
				}
				return outcome{kind: kind, msg: de.Error()}
			}
			if _, seen := bad[de.Record]; !seen && len(msgs) < maxMessageErrors {
				msgs = append(msgs, de.Error())
			}
			bad[de.Record] = max(bad[de.Record], de.Skipped())
		}
		if len(des) == 0 { // not a DecodeError: treat the whole request as malformed
			return outcome{kind: outcomeMalformed, msg: decErr.Error()}
		}
		for _, k := range bad {
			out.rejected += int64(k)
		}
		if len(bad) > len(msgs) {
			msgs = append(msgs, "and "+strconv.Itoa(len(bad)-len(msgs))+" more")
		}
		out.msg = strings.Join(msgs, "; ")
		if n == 0 {
			return outcome{kind: outcomeMalformed, msg: out.msg}
		}
	}
	if n == 0 {
		return out
	}
	err := call()
	var (
		pe *PartialError
		re *RetryError
	)
	switch {
	case err == nil:
		out.accepted = int64(n)
	case errors.As(err, &pe):
		// A count outside the batch is the consumer's mistake: keep the answer possible.
		rej := min(max(pe.Rejected, 0), int64(n))
		out.rejected += rej
		out.accepted = int64(n) - rej
		if out.msg != "" {
			out.msg += "; "
		}
		out.msg += pe.Message
	case errors.As(err, &re) && !errors.Is(re.Err, ErrSaturated):
		// A RetryError always asks for a retry: whatever its cause, but saturation, it is
		// unavailability (see RetryError).
		return outcome{kind: outcomeUnavailable, msg: "consumer unavailable", after: retryAfter(err, r.opts.RetryAfter)}
	case errors.Is(err, ErrInvalid):
		return outcome{kind: outcomeMalformed, msg: err.Error()}
	case errors.Is(err, ErrSaturated):
		return outcome{kind: outcomeSaturated, msg: err.Error(), after: retryAfter(err, r.opts.RetryAfter)}
	default:
		if !errors.Is(err, ErrUnavailable) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			r.opts.Logger.Error("receiver: consumer failed", "signal", sig.String(), "records", n, "err_type", errType(err))
		}
		return outcome{kind: outcomeUnavailable, msg: "consumer unavailable", after: retryAfter(err, r.opts.RetryAfter)}
	}
	return out
}

// errType names an error's type for logs, which must not carry the message (it may quote
// content).
func errType(err error) string { return fmt.Sprintf("%T", err) }

func retryAfter(err error, def time.Duration) time.Duration {
	var re *RetryError
	if errors.As(err, &re) && re.After > 0 {
		return re.After
	}
	return def
}

// retrySeconds renders d as a Retry-After value: whole seconds, rounded up, at least 1.
func retrySeconds(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return strconv.FormatInt(s, 10)
}

func (r *Receiver) count(sig Signal, o outcome) {
	r.st.requests.Add(1)
	r.st.accepted.Add(o.accepted)
	r.st.rejected.Add(o.rejected) // only a success carries a rejected count: see Stats
	if int(o.kind) < len(r.st.refused) && o.kind != outcomeOK {
		r.st.refused[o.kind].Add(1)
	}
	if o.kind != outcomeOK {
		r.opts.Logger.Warn("receiver: request refused", "signal", sig.String(), "reason", o.kind.String())
	}
}

func (k outcomeKind) String() string {
	switch k {
	case outcomeOK:
		return "ok"
	case outcomeUnauthorized:
		return "unauthorized"
	case outcomeUnsupported:
		return "unsupported"
	case outcomeTooLarge:
		return "too_large"
	case outcomeMalformed:
		return "malformed"
	case outcomeTimeout:
		return "timeout"
	case outcomeSaturated:
		return "saturated"
	case outcomeUnavailable:
		return "unavailable"
	case outcomeNotFound:
		return "not_found"
	case outcomeMethod:
		return "method_not_allowed"
	}
	return "unknown"
}

type counters struct {
	requests, accepted, rejected, inFlight atomic.Int64
	refused                                [outcomeMethod + 1]atomic.Int64
}

// Stats is a snapshot of a receiver's counters, for export as metrics. Counters only grow;
// InFlight is a gauge.
type Stats struct {
	// Requests counts requests answered, over both transports.
	Requests int64
	// Accepted counts records (log events and metric data points) acknowledged to clients.
	Accepted int64
	// Rejected counts records refused inside otherwise successful requests (partial_success).
	Rejected int64
	// InFlight is the number of requests being decoded or consumed now.
	InFlight int64
	// Refused counts refused requests by reason: unauthorized, unsupported, too_large,
	// malformed, timeout, saturated, unavailable, not_found, method_not_allowed.
	Refused map[string]int64
}

// Stats returns a snapshot of the counters. It is safe to call concurrently with requests.
func (r *Receiver) Stats() Stats {
	s := Stats{Requests: r.st.requests.Load(), Accepted: r.st.accepted.Load(), Rejected: r.st.rejected.Load(),
		InFlight: r.st.inFlight.Load(), Refused: map[string]int64{}}
	for k := outcomeUnauthorized; k <= outcomeMethod; k++ {
		if n := r.st.refused[k].Load(); n > 0 {
			s.Refused[k.String()] = n
		}
	}
	return s
}
