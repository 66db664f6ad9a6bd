package correlate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "compliance", name))
	require.NoError(t, err)
	return b
}

func complianceFixtures(t testing.TB) ([]Activity, []Transcript) {
	acts, err := DecodeActivities(readTestdata(t, "activities.json"))
	require.NoError(t, err)
	sess, err := DecodeLocalSessions(readTestdata(t, "sessions.json"))
	require.NoError(t, err)
	var trs []Transcript
	for _, s := range sess.Data {
		msgs, err := DecodeMessages(readTestdata(t, "messages-"+s.ID+".json"))
		require.NoError(t, err)
		trs = append(trs, Transcript{Session: s, Messages: msgs.Data})
	}
	return acts.Data, trs
}

func TestDecodeActivities(t *testing.T) {
	page, err := DecodeActivities(readTestdata(t, "activities.json"))
	require.NoError(t, err)
	require.Len(t, page.Data, 5)
	assert.Equal(t, "activity_05", page.FirstID)
	a := page.Data[2]
	assert.Equal(t, "claude_plugin_installed", a.Type)
	assert.Equal(t, "user_01EikcPGzmzE4FeHanisYbhW", a.Actor.UserID)
	assert.Equal(t, "203.0.113.7", a.Actor.IPAddress)
	assert.Equal(t, `"ci-report"`, string(a.Extra["plugin_name"]))
	assert.Equal(t, time.Date(2026, 11, 24, 10, 8, 2, 0, time.UTC), a.CreatedAt)
	assert.Empty(t, page.Data[1].OrganizationID, "null organization_id")
}

func TestComplianceDecodeErrors(t *testing.T) {
	tests := []struct {
		name    string
		opts    ComplianceDecodeOptions
		in      string
		kept    int
		wantErr error
		record  bool
	}{
		{name: "not json", in: `{"data": [`, wantErr: ErrMalformed},
		{name: "too large", opts: ComplianceDecodeOptions{MaxBytes: 10}, in: `{"data": []}` + strings.Repeat(" ", 10), wantErr: ErrTooLarge},
		{name: "missing id keeps others", in: `{"data": [{"created_at": "2026-11-24T10:00:00Z"}, {"id": "a", "created_at": "2026-11-24T10:00:00Z"}]}`, kept: 1, wantErr: ErrMalformed, record: true},
		{name: "bad time", in: `[{"id": "a", "created_at": "yesterday"}]`, wantErr: ErrMalformed, record: true},
		{name: "strict actor", opts: ComplianceDecodeOptions{Strict: true}, in: `[{"id": "a", "created_at": "2026-11-24T10:00:00Z", "actor": {"type": "user_actor", "shoe_size": 9}}]`, wantErr: ErrMalformed, record: true},
		{name: "lenient actor", in: `[{"id": "a", "created_at": "2026-11-24T10:00:00Z", "actor": {"type": "user_actor", "shoe_size": 9}}]`, kept: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := tt.opts.DecodeActivities([]byte(tt.in))
			assert.Len(t, page.Data, tt.kept)
			if tt.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
			var re *RecordError
			assert.Equal(t, tt.record, errorsAs(err, &re))
		})
	}
	_, err := ComplianceDecodeOptions{Strict: true}.DecodeLocalSessions([]byte(`[{"id": "clls_1", "colour": "red"}]`))
	require.ErrorIs(t, err, ErrMalformed)
	_, err = DecodeMessages([]byte(`[{"id": "m", "content": "not blocks"}]`))
	require.ErrorIs(t, err, ErrMalformed)
}

func TestJoinCorpus(t *testing.T) {
	acts, trs := complianceFixtures(t)
	chains := Fold(allCorpusEvents(t))
	res := Join(chains, acts, trs, JoinOptions{})
	assert.Equal(t, 1, res.DuplicateActivities)
	assert.Equal(t, 1, res.UnmatchedActivities, "the admin is none of the chains' users")
	require.Len(t, res.Timelines, 3)

	byUser := map[string]Timeline{}
	for _, tl := range res.Timelines {
		byUser[tl.UserID] = tl
	}
	jane := byUser["user_01EikcPGzmzE4FeHanisYbhW"]
	assert.Equal(t, []string{"6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"}, jane.AccountUUIDs)
	var kinds []string
	for _, it := range jane.Items {
		kinds = append(kinds, it.Kind.String())
		switch it.Kind {
		case ItemActivity:
			assert.Equal(t, "activity_02", it.ID, "the 2026-11-20 login is outside the look-back")
			assert.Equal(t, ConfidenceExact, it.Confidence)
			assert.NotEmpty(t, it.Related)
		case ItemTranscript:
			assert.Equal(t, ConfidenceExact, it.Confidence)
			assert.Len(t, it.Related, 2, "files and mcp chains share tool_use ids with the transcript")
		case ItemChain:
			if it.Chain.IsPreamble() {
				continue
			}
			if len(it.Chain.Skills) > 0 {
				assert.Equal(t, UnjoinableNoTranscript, it.Unjoinable)
			} else {
				assert.Equal(t, ConfidenceExact, it.RelatedConfidence)
				assert.Equal(t, []string{"clls_01jane"}, it.Related)
			}
		}
	}
	assert.Contains(t, kinds, "activity")
	assert.Contains(t, kinds, "transcript")

	priya := byUser["user_01LCzt4WA3a2xsWKHwCLSvC4"]
	for _, it := range priya.Items {
		if it.Kind == ItemTranscript {
			assert.Equal(t, ConfidenceWeak, it.Confidence, "the fatal chain has no tool calls: time overlap only")
		}
	}
	sam := byUser["user_016WYJqouEY7JdQKTzgdXcqL"]
	found := false
	for _, it := range sam.Items {
		if it.Kind == ItemActivity {
			found = true
			assert.Equal(t, ConfidenceEmail, it.Confidence)
		}
	}
	assert.True(t, found, "the email-only login joins sam by email")
	golden(t, "join.json", res)
}

func TestJoinIdentityFallbacks(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	known := &Chain{ID: "c1", SessionID: "s1", PromptID: "p1", User: User{AccountID: "user_01A", AccountUUID: "uuid-a", Email: "a@x.example"}, StartedAt: t0, EndedAt: t0, Version: 1}
	alias := &Chain{ID: "c2", SessionID: "s2", PromptID: "p2", User: User{AccountUUID: "uuid-a"}, StartedAt: t0, EndedAt: t0, Version: 1}
	email := &Chain{ID: "c3", SessionID: "s3", PromptID: "p3", User: User{Email: "A@X.example"}, StartedAt: t0, EndedAt: t0, Version: 1}
	orphanUUID := &Chain{ID: "c4", SessionID: "s4", PromptID: "p4", User: User{AccountUUID: "uuid-z"}, StartedAt: t0, Version: 1}
	none := &Chain{ID: "c5", SessionID: "s5", PromptID: "p5", StartedAt: t0, Version: 1}
	res := Join([]*Chain{known, alias, email, orphanUUID, none}, nil, nil, JoinOptions{})
	require.Len(t, res.Timelines, 1)
	confs := map[string]Confidence{}
	for _, it := range res.Timelines[0].Items {
		confs[it.ID] = it.Confidence
	}
	assert.Equal(t, map[string]Confidence{"c1": ConfidenceExact, "c2": ConfidenceAlias, "c3": ConfidenceEmail}, confs)
	assert.Equal(t, []UnjoinedChain{{ChainID: "c4", Reason: UnjoinableUnknownAlias}, {ChainID: "c5", Reason: UnjoinableNoIdentity}}, res.Unjoined)
}
