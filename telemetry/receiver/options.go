package receiver

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/coworkgov/cowork/telemetry"
)

// Defaults for [Options].
const (
	DefaultMaxBodyBytes         = 16 << 20 // 16 MiB on the wire
	DefaultMaxDecompressedBytes = 64 << 20 // 64 MiB after gunzip
	DefaultMaxConcurrent        = 64
	DefaultReadTimeout          = 30 * time.Second
	DefaultRetryAfter           = time.Second
)

// Options configures a [Receiver]. The zero value is ready to use: no authentication and the
// documented default limits.
type Options struct {
	// Token, when not empty, is the bearer token every request must present, as
	// "Authorization: Bearer <Token>" (HTTP header or gRPC metadata). It is compared in
	// constant time and never logged. Default: none (no authentication).
	Token string
	// MaxBodyBytes is the largest HTTP request body accepted as sent (compressed or not);
	// larger ones get 413. Default: DefaultMaxBodyBytes. gRPC messages are bounded by
	// MaxDecompressedBytes (see Receiver.GRPCServerOptions).
	MaxBodyBytes int64
	// MaxDecompressedBytes is the largest body accepted after gzip decompression, so that a
	// small gzip bomb cannot expand without limit; larger ones get 413. Default:
	// DefaultMaxDecompressedBytes. It is also the decoder's size limit.
	MaxDecompressedBytes int64
	// MaxConcurrent is the number of requests (HTTP and gRPC together) decoded and consumed at
	// once; beyond it requests get 503 with Retry-After at once. An HTTP request holds its slot
	// from the end of its headers, while its body is read (at most ReadTimeout), so that the
	// bodies held in memory are bounded too. Default: DefaultMaxConcurrent.
	MaxConcurrent int
	// ReadTimeout bounds reading one HTTP request body; a body not read in time gets 503 with
	// Retry-After (not 408, which exporters do not retry). Default: DefaultReadTimeout.
	ReadTimeout time.Duration
	// RetryAfter is the delay sent with 429 and 503 answers (whole seconds, at least 1).
	// Default: DefaultRetryAfter.
	RetryAfter time.Duration
	// Decode configures the decoders; its MaxBytes is replaced by MaxDecompressedBytes.
	// Default: the zero telemetry.DecodeOptions.
	Decode telemetry.DecodeOptions
	// Logger receives one line per refused request (status, signal, sizes, remote address;
	// never event content or the token). Default: discard.
	Logger *slog.Logger
}

func (o Options) withDefaults() (Options, error) {
	if o.MaxBodyBytes < 0 || o.MaxDecompressedBytes < 0 || o.MaxConcurrent < 0 || o.ReadTimeout < 0 || o.RetryAfter < 0 {
		return o, fmt.Errorf("%w: limits must not be negative", ErrInvalidOption)
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.MaxDecompressedBytes == 0 {
		o.MaxDecompressedBytes = DefaultMaxDecompressedBytes
	}
	if o.MaxConcurrent == 0 {
		o.MaxConcurrent = DefaultMaxConcurrent
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = DefaultReadTimeout
	}
	if o.RetryAfter == 0 {
		o.RetryAfter = DefaultRetryAfter
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.Decode.MaxBytes = int(o.MaxDecompressedBytes)
	return o, nil
}
