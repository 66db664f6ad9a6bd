package policy

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
)

// Revision returns the snapshot's content hash, "rev-" and 16 hex digits of a SHA-256 over
// a canonical JSON form. The canonical form sorts groups, roles, members and their lists,
// so the revision names the content, not the order it was written in; YAML and JSON
// documents with the same content have the same revision. Header values count (a rotated
// token is a new revision) but only through their hash.
func (s *Snapshot) Revision() string { return s.index().revision }

func (s *Snapshot) computeRevision() string {
	c := s.Clone()
	c.src = nil
	slices.SortStableFunc(c.Groups, func(a, b Group) int { return cmp.Compare(a.ID, b.ID) })
	for i := range c.Roles {
		slices.Sort(c.Roles[i].Grants)
		slices.Sort(c.Roles[i].Groups)
	}
	slices.SortStableFunc(c.Roles, func(a, b CustomRole) int { return cmp.Compare(a.ID, b.ID) })
	for i := range c.Members {
		slices.Sort(c.Members[i].Groups)
	}
	slices.SortStableFunc(c.Members, func(a, b Member) int { return cmp.Compare(a.ID, b.ID) })
	if c.Egress != nil {
		slices.Sort(c.Egress.Domains)
	}
	return HashJSON(c, []byte(s.Telemetry.Headers.Encode()))
}

// HashJSON returns "rev-" and 16 hex digits of a SHA-256 over the JSON encoding of v
// followed by extra. Package plugins uses it so both packages name revisions alike.
func HashJSON(v any, extra ...[]byte) string {
	h := sha256.New()
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(err.Error())
	}
	h.Write(b)
	for _, x := range extra {
		h.Write([]byte{0})
		h.Write(x)
	}
	return "rev-" + hex.EncodeToString(h.Sum(nil)[:8])
}
