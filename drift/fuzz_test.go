package drift

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/coworkgov/cowork/plugins"
	"github.com/coworkgov/cowork/telemetry"
)

// fuzzEvents turns bytes into events over a small vocabulary of identities, organizations,
// products, sessions, plugins and marketplaces, four bytes per event, so the fuzzer explores
// combinations of the rules rather than string parsing.
func fuzzEvents(data []byte) []telemetry.Event {
	idents := [][3]string{
		{janeID, "", ""}, {"", priyaUUID, ""}, {"", "", "Sam.Lee@acme.example"}, {"user_x", "", "x@evil.example"},
		{"", "", ""}, {"", "", "jane.doe@acme.example"},
	}
	orgs := []string{corpusOrg, "", "ffffffff-0000-4000-8000-000000000001"}
	products := []string{"cowork", "claude-code", ""}
	plugins := [][2]string{{"cc-plugin-privacy", "builtin"}, {"lint", "acme-tools"}, {"deploy", "acme-tools"},
		{"jira-sync", "community-hub"}, {"lint", ""}, {"ghost", "acme-tools"}, {"", "acme-tools"}, {"cc-plugin-privacy", "BUILTIN"}}
	var out []telemetry.Event
	for i := 0; i+4 <= len(data) && len(out) < 256; i += 4 {
		b := data[i : i+4]
		var ev telemetry.Event
		p := plugins[int(b[3])%len(plugins)]
		switch b[2] % 5 {
		case 0:
			ev = &telemetry.PluginLoaded{PluginName: p[0], MarketplaceName: p[1]}
		case 1:
			ev = &telemetry.PluginInstalled{PluginName: p[0], MarketplaceName: p[1]}
		case 2:
			ev = &telemetry.SkillActivated{SkillName: "s", PluginName: p[0], MarketplaceName: p[1]}
		case 3:
			ev = &telemetry.UserPrompt{}
		default:
			ev = &telemetry.APIRequest{}
		}
		r := ev.EventRecord()
		id := idents[int(b[0])%len(idents)]
		r.AccountID, r.AccountUUID, r.UserEmail = id[0], id[1], id[2]
		r.OrganizationID = orgs[int(b[1])%len(orgs)]
		r.SessionID = string(rune('a' + b[1]>>4%4))
		r.Sequence = int64(i / 4)
		r.Timestamp = time.Date(2026, 11, 24, 10, 0, int(b[3])%60, 0, time.UTC)
		r.Resource = &telemetry.Resource{ServiceName: products[int(b[2]>>4)%len(products)]}
		out = append(out, ev)
	}
	return out
}

// FuzzDetector checks properties of every report: it does not depend on event order, counts
// every event, and every finding is backed by evidence within its counts.
func FuzzDetector(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 1, 0, 0, 3, 2, 0, 3, 0, 3, 2, 4, 1})
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 5, 2, 0, 16, 0})
	f.Add([]byte{4, 0, 0, 0, 3, 1, 2, 3, 5, 2, 1, 7, 2, 0, 2, 6})
	snaps := []*plugins.Snapshot{loadSnapshot(f, "clean.yaml"), loadSnapshot(f, "drift.yaml")}
	f.Fuzz(func(t *testing.T, data []byte) {
		events := fuzzEvents(data)
		for _, snap := range snaps {
			a, err := Check(snap, events, Options{MaxEvidence: 2})
			if err != nil {
				t.Fatal(err)
			}
			if a.Stats.Events != len(events) {
				t.Fatalf("counted %d of %d events", a.Stats.Events, len(events))
			}
			for _, fd := range a.Findings {
				if fd.Kind == KindUnknown || fd.Severity != fd.Kind.Severity() || len(fd.Evidence) == 0 ||
					len(fd.Evidence) > 2 || fd.Sessions < len(fd.Evidence) || fd.Events < fd.Sessions || fd.Explanation == "" {
					t.Fatalf("inconsistent finding %+v", fd)
				}
			}
			rev := slices.Clone(events)
			slices.Reverse(rev)
			b, err := Check(snap, rev, Options{MaxEvidence: 2})
			if err != nil {
				t.Fatal(err)
			}
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			if string(ja) != string(jb) {
				t.Fatalf("order changed the report:\n%s\n%s", ja, jb)
			}
		}
	})
}
