package realclient

import "bytes"

// eventPrefix starts every event body string of the CLI.
var eventPrefix = []byte("claude_code.")

// CountEvents counts the event body strings "claude_code.NAME" in raw OTLP logs bodies, JSON
// or protobuf, by NAME, without decoding them. A string counts when it is a whole JSON string
// ("…" around it) or a whole length-prefixed protobuf string (the byte before it is its
// length), and NAME is lower-case letters and underscores: the events scope name
// "com.anthropic.claude_code.events" and dotted metric names such as
// "claude_code.cost.usage" do not count. CountEvents is pure.
func CountEvents(bodies ...[]byte) map[string]int {
	out := map[string]int{}
	for _, b := range bodies {
		for off := 0; ; {
			i := bytes.Index(b[off:], eventPrefix)
			if i < 0 {
				break
			}
			i += off
			off = i + len(eventPrefix)
			if i == 0 {
				continue
			}
			var name []byte
			if b[i-1] == '"' {
				end := bytes.IndexByte(b[off:], '"')
				if end < 0 {
					continue
				}
				name = b[off : off+end]
			} else if n := int(b[i-1]); n > len(eventPrefix) && n < 0x80 && i+n <= len(b) {
				name = b[off : i+n]
			}
			if isName(name) {
				out[string(name)]++
			}
		}
	}
	return out
}

func isName(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c != '_' && (c < 'a' || c > 'z') {
			return false
		}
	}
	return true
}

// EventCounts counts the event names in the logs requests of reqs, as CountEvents.
func EventCounts(reqs []Request) map[string]int {
	var bodies [][]byte
	for _, r := range signal(reqs, "logs") {
		bodies = append(bodies, r.Body)
	}
	return CountEvents(bodies...)
}
