package correlate

import "errors"

// Sentinel errors. Test for them with errors.Is.
var (
	// ErrClosed is returned by an [Assembler] that has been closed.
	ErrClosed = errors.New("correlate: assembler closed")
	// ErrInvalidOption is wrapped by [New] when an option is out of range.
	ErrInvalidOption = errors.New("correlate: invalid option")
	// ErrMalformed is wrapped by the Compliance API decoders for input that is not the
	// documented JSON shape.
	ErrMalformed = errors.New("correlate: malformed input")
	// ErrTooLarge is wrapped by the Compliance API decoders when the input exceeds MaxBytes.
	ErrTooLarge = errors.New("correlate: input too large")
	// ErrConsumer wraps errors returned by a [Consumer]; the chain that failed is in the
	// [ConsumerError].
	ErrConsumer = errors.New("correlate: consumer failed")
)

// ConsumerError reports that a [Consumer] refused a chain. It unwraps to both [ErrConsumer]
// and the consumer's own error.
type ConsumerError struct {
	ChainID string
	Version int
	Err     error
}

// Error describes the failure with the chain id (never the chain's content).
func (e *ConsumerError) Error() string {
	return "correlate: consumer failed on chain " + e.ChainID + ": " + e.Err.Error()
}

// Unwrap returns ErrConsumer and the consumer's error.
func (e *ConsumerError) Unwrap() []error { return []error{ErrConsumer, e.Err} }
