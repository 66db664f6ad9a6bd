package redact

import (
	"errors"
	"fmt"
)

// ErrPolicy is wrapped by every error about a policy: unknown fields, bad patterns, unknown
// detectors or actions, missing parameters. Test with errors.Is; use errors.As with
// *PolicyError for the line.
var ErrPolicy = errors.New("redact: invalid policy")

// ErrKey is returned by [New] for an unusable pseudonym key (shorter than 32 bytes, or a key
// id that is not 1–16 characters of [A-Za-z0-9_-]).
var ErrKey = errors.New("redact: invalid pseudonym key")

// PolicyError describes one problem in a policy document or value.
type PolicyError struct {
	// Line is the 1-based line in the document, or 0 for a policy built in Go.
	Line int
	// Field is the offending field, e.g. "rules[2].keys".
	Field string
	// Msg says what is wrong.
	Msg string
}

// Error renders "redact: invalid policy: line 7: rules[2].action: unknown action "hide"".
func (e *PolicyError) Error() string {
	s := ErrPolicy.Error() + ": "
	if e.Line > 0 {
		s += fmt.Sprintf("line %d: ", e.Line)
	}
	if e.Field != "" {
		s += e.Field + ": "
	}
	return s + e.Msg
}

// Unwrap returns ErrPolicy.
func (e *PolicyError) Unwrap() error { return ErrPolicy }
