package correlate

import (
	"hash/fnv"

	"github.com/coworkgov/cowork/telemetry"
)

// PartitionKey returns the key to route ev by so that one [Assembler] sees every event of a
// session: its session.id. Routing by session rather than prompt.id keeps the preamble (which
// has no prompt.id), task notifications and sequence-gap checks on one instance.
func PartitionKey(ev telemetry.Event) string { return ev.EventRecord().SessionID }

// Partition returns the partition of n (0 ≤ p < n) for ev: FNV-1a of [PartitionKey] modulo n,
// stable across processes and versions. It returns 0 when n ≤ 1.
func Partition(ev telemetry.Event, n int) int {
	if n <= 1 {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(PartitionKey(ev)))
	return int(h.Sum32() % uint32(n))
}
