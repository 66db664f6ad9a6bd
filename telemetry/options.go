package telemetry

// Defaults for [DecodeOptions].
const (
	DefaultMaxBytes = 64 << 20 // 64 MiB
	DefaultMaxDepth = 32
)

// DecodeOptions configures decoding. The zero value is ready to use and safe on hostile input:
// inputs over [DefaultMaxBytes] and values nested deeper than [DefaultMaxDepth] are refused,
// unknown fields are skipped.
//
// Decoded strings share one copy of the input, so a retained event keeps its whole request's
// bytes alive; the input itself may be reused as soon as the decoder returns. Equal
// workspace.host_paths lists of one request share one []string: treat typed slice fields as
// read-only, or [Clone] the event first.
type DecodeOptions struct {
	// MaxBytes is the largest input accepted; 0 means DefaultMaxBytes, negative means no limit.
	MaxBytes int
	// MaxDepth is the deepest nesting of array and map values accepted; 0 means DefaultMaxDepth.
	MaxDepth int
	// DisallowUnknownFields makes an unknown JSON field an error (ErrUnknownField) instead of
	// skipping it. Protobuf unknown fields are always skipped, as the protobuf rules require.
	DisallowUnknownFields bool
	// SpareAttrs leaves room for that many more attributes after each record's, so that a
	// consumer that adds some to every event (the redact package's audit adds two or three)
	// appends in place instead of copying the list. The room is the record's alone, but a
	// copy of the Record struct shares it: appending to both copies' Attrs would write the
	// same slots ([Clone] copies the list, and is safe). 0: none, every list at its length,
	// so that any append copies it.
	SpareAttrs int
}

func (o DecodeOptions) spareAttrs() int { return max(o.SpareAttrs, 0) }

func (o DecodeOptions) maxBytes() int {
	switch {
	case o.MaxBytes == 0:
		return DefaultMaxBytes
	case o.MaxBytes < 0:
		return int(^uint(0) >> 1)
	}
	return o.MaxBytes
}

func (o DecodeOptions) maxDepth() int {
	if o.MaxDepth <= 0 {
		return DefaultMaxDepth
	}
	return o.MaxDepth
}

// EncodeOptions configures encoding. The zero value writes what Claude Code writes: in JSON,
// intValue as a JSON number and the *UnixNano timestamps as strings.
type EncodeOptions struct {
	// IntAsString writes JSON intValue as a string ("15"), the proto3 JSON mapping's form,
	// instead of a number as Claude Code does.
	IntAsString bool
}
