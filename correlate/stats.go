package correlate

// Stats is a snapshot of an [Assembler]'s counters, for export as metrics. Counters only grow;
// InFlight, Retained, Events and BytesHeld are gauges.
type Stats struct {
	// InFlight is the number of open chains.
	InFlight int64
	// Retained is the number of closed chains still holding their events for late arrivals.
	Retained int64
	// BytesHeld estimates the bytes of events held, in flight and retained.
	BytesHeld int64
	// Received counts events passed to Add; Added counts those kept (not duplicates).
	Received int64
	Added    int64
	// Emitted counts chain versions emitted; Amended those with version > 1.
	Emitted int64
	Amended int64
	// Incomplete counts emitted chains per reason (a chain may count under several).
	Incomplete map[string]int64
	// ClosedBy counts emitted chains per trigger.
	ClosedBy map[string]int64
	// Late counts events that arrived for an already closed chain.
	Late int64
	// Duplicates counts events dropped as duplicates of an event already held or emitted.
	Duplicates int64
	// Evicted counts chains closed early to stay within the memory limits.
	Evicted int64
	// ConsumerErrors counts chains the consumer refused.
	ConsumerErrors int64
}

// Stats returns a snapshot of the counters. It is safe to call concurrently with everything
// else; the fields are read one by one, not atomically together, and an Add in progress
// counts its events in Received and Added when it emits a chain or returns.
func (a *Assembler) Stats() Stats {
	s := Stats{
		InFlight: a.inFlight.Load(), Retained: a.st.retained.Load(), BytesHeld: a.bytesHeld.Load(),
		Received: a.eventsIn.Load(), Added: a.st.added.Load(), Emitted: a.st.emitted.Load(),
		Amended: a.st.amended.Load(), Late: a.st.late.Load(), Duplicates: a.st.duplicates.Load(),
		Evicted: a.st.evicted.Load(), ConsumerErrors: a.st.consumerErrors.Load(),
		Incomplete: map[string]int64{}, ClosedBy: map[string]int64{},
	}
	for r := Reason(1); r < numReasons; r++ {
		if n := a.st.incomplete[r].Load(); n > 0 {
			s.Incomplete[r.String()] = n
		}
	}
	for t := Trigger(1); t < numTriggers; t++ {
		if n := a.st.byTrigger[t].Load(); n > 0 {
			s.ClosedBy[t.String()] = n
		}
	}
	return s
}
