package realclient

import (
	"regexp"
)

// eventRE matches an event body string "claude_code.NAME" but not the events scope name
// "com.anthropic.claude_code.events" nor metric names such as "claude_code.cost.usage".
var eventRE = regexp.MustCompile(`(^|[^.a-z_])claude_code\.([a-z_]+)\b`)

// CountEvents counts the "claude_code.NAME" strings in raw OTLP logs bodies, JSON or protobuf,
// by NAME: the CLI's event names, without decoding. Pass only logs bodies: metric names would
// count too when they have no further dot. CountEvents is pure.
func CountEvents(bodies ...[]byte) map[string]int {
	out := map[string]int{}
	for _, b := range bodies {
		for _, m := range eventRE.FindAllSubmatchIndex(b, -1) {
			end := m[5]
			if end < len(b) && b[end] == '.' { // a dotted metric name
				continue
			}
			out[string(b[m[4]:m[5]])]++
		}
	}
	return out
}

// EventCounts counts the event names in the logs requests of reqs, as CountEvents.
func EventCounts(reqs []Request) map[string]int {
	var bodies [][]byte
	for _, r := range signal(reqs, "logs") {
		bodies = append(bodies, r.Body)
	}
	return CountEvents(bodies...)
}
