package correlate

import "fmt"

// Reason says why a chain is not complete. Its zero value, ReasonUnknown, is never emitted;
// unknown names decode to it.
type Reason uint8

// The reasons, in the order a chain lists them.
const (
	ReasonUnknown Reason = iota
	// ReasonNoPrompt: no user_prompt event was seen (not used for the preamble).
	ReasonNoPrompt
	// ReasonNoTerminal: no terminal event (a main-thread assistant_response, a final
	// api_error, api_retries_exhausted or api_refusal, or a later prompt in the session).
	ReasonNoTerminal
	// ReasonUnpairedDecision: an accepted tool_decision has no tool_result.
	ReasonUnpairedDecision
	// ReasonAwaitingSubagent: an Agent/Task call has no subagent_completed.
	ReasonAwaitingSubagent
	// ReasonSequenceGap: an event.sequence between the chain's first and last event is
	// missing from the whole session stream.
	ReasonSequenceGap
	// ReasonMaxEvents, ReasonMaxBytes: the chain was closed at its event or byte limit; later
	// events amend it.
	ReasonMaxEvents
	ReasonMaxBytes
	// ReasonEvicted: the chain was closed early to keep the assembler within its memory limit.
	ReasonEvicted
	// ReasonPartial: a late event arrived after the chain's earlier events were forgotten;
	// this version holds only the events seen since. Re-fold the stored events to repair it.
	ReasonPartial
	numReasons
)

var reasonNames = [...]string{"", "no_prompt", "no_terminal", "unpaired_decision", "awaiting_subagent", "sequence_gap", "max_events", "max_bytes", "evicted", "partial"}

// Reasons lists every known reason, for metrics.
func Reasons() []Reason {
	out := make([]Reason, 0, numReasons-1)
	for r := Reason(1); r < numReasons; r++ {
		out = append(out, r)
	}
	return out
}

// String returns the reason's name, e.g. "unpaired_decision", or "" for ReasonUnknown.
func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return ""
}

// MarshalText returns the reason's name.
func (r Reason) MarshalText() ([]byte, error) {
	if r == ReasonUnknown || r >= numReasons {
		return nil, fmt.Errorf("%w: reason %d", ErrMalformed, r)
	}
	return []byte(r.String()), nil
}

// UnmarshalText parses a reason's name; an unknown name gives ReasonUnknown.
func (r *Reason) UnmarshalText(b []byte) error {
	*r = ReasonUnknown
	for i, n := range reasonNames {
		if i > 0 && n == string(b) {
			*r = Reason(i)
		}
	}
	return nil
}

// Trigger is what closed a chain. Its zero value, TriggerUnknown, is never emitted.
type Trigger uint8

// The triggers.
const (
	TriggerUnknown Trigger = iota
	// TriggerTerminal: a terminal event was seen, nothing was pending, and the quiet period
	// passed.
	TriggerTerminal
	// TriggerIdle: no event arrived for the idle timeout.
	TriggerIdle
	// TriggerMaxAge: the chain reached its maximum age.
	TriggerMaxAge
	// TriggerMaxEvents, TriggerMaxBytes: the chain reached its event or byte limit.
	TriggerMaxEvents
	TriggerMaxBytes
	// TriggerEvicted: the assembler reached its memory limit and closed its oldest chain.
	TriggerEvicted
	// TriggerFlush: Flush or Close emitted the chain.
	TriggerFlush
	numTriggers
)

var triggerNames = [...]string{"", "terminal", "idle_timeout", "max_age", "max_events", "max_bytes", "evicted", "flush"}

// String returns the trigger's name, e.g. "idle_timeout", or "" for TriggerUnknown.
func (t Trigger) String() string {
	if int(t) < len(triggerNames) {
		return triggerNames[t]
	}
	return ""
}

// MarshalText returns the trigger's name ("" for TriggerUnknown).
func (t Trigger) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText parses a trigger's name; an unknown name gives TriggerUnknown.
func (t *Trigger) UnmarshalText(b []byte) error {
	*t = TriggerUnknown
	for i, n := range triggerNames {
		if i > 0 && n == string(b) {
			*t = Trigger(i)
		}
	}
	return nil
}
