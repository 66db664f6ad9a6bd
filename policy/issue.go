package policy

import (
	"errors"
	"fmt"
	"strings"
)

// Severity grades an [Issue]. The zero value, [SeverityUnknown], is never produced.
type Severity uint8

// Severities, least to most severe.
const (
	SeverityUnknown Severity = iota
	SeverityInfo             // "info": worth knowing, nothing is wrong
	SeverityWarning          // "warning": applied, but probably not what the admin meant
	SeverityError            // "error": invalid; the entry is ignored or fails closed
)

var severityNames = [...]string{"unknown", "info", "warning", "error"}

// String returns "info", "warning", "error" or "unknown".
func (s Severity) String() string {
	if int(s) < len(severityNames) {
		return severityNames[s]
	}
	return "unknown"
}

// MarshalText implements [encoding.TextMarshaler] with the String form.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Issue is one finding about a snapshot: from validation, from checking the telemetry
// setting, or a warning attached to a decision. It is an error that unwraps to its
// sentinel, so errors.Is(issue, ErrDanglingGroup) works.
type Issue struct {
	// Severity grades the finding.
	Severity Severity
	// Path is the dotted path of the value concerned, such as `members[3].groups[1]`.
	Path string
	// Line is the value's line in the decoded document, or 0.
	Line int
	// Err is the sentinel, such as [ErrDanglingGroup].
	Err error
	// Message explains the finding. It never contains secret values.
	Message string
}

// Error returns "severity: line L: path: message".
func (i Issue) Error() string {
	var b strings.Builder
	b.WriteString(i.Severity.String())
	b.WriteString(": ")
	if i.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", i.Line)
	}
	if i.Path != "" {
		b.WriteString(i.Path)
		b.WriteString(": ")
	}
	if i.Message != "" {
		b.WriteString(i.Message)
	} else if i.Err != nil {
		b.WriteString(i.Err.Error())
	}
	return b.String()
}

// String is [Issue.Error].
func (i Issue) String() string { return i.Error() }

// Unwrap returns the sentinel.
func (i Issue) Unwrap() error { return i.Err }

// Issues is a list of findings in a stable order.
type Issues []Issue

// Err joins the issues of [SeverityError] into one error (nil when there are none); each
// part unwraps to its sentinel.
func (is Issues) Err() error {
	var errs []error
	for _, i := range is {
		if i.Severity >= SeverityError {
			errs = append(errs, i)
		}
	}
	return errors.Join(errs...)
}

// Count returns how many issues have severity s.
func (is Issues) Count(s Severity) int {
	n := 0
	for _, i := range is {
		if i.Severity == s {
			n++
		}
	}
	return n
}

// String returns one issue per line.
func (is Issues) String() string {
	var b strings.Builder
	for _, i := range is {
		b.WriteString(i.Error())
		b.WriteByte('\n')
	}
	return b.String()
}

// WithLines fills in Line from src for issues that have a path and no line. A path that
// was not in the document (a missing field) takes the line of its nearest parent.
func (is Issues) WithLines(src Source) Issues {
	if src == nil {
		return is
	}
	for k := range is {
		for p := is[k].Path; is[k].Line == 0 && p != ""; p = parentPath(p) {
			is[k].Line = src.Line(p)
		}
	}
	return is
}

// parentPath drops the last element of a path: "a.b[2].c" -> "a.b[2]" -> "a.b" -> "a".
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}
