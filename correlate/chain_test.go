package correlate

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The chain JSON is what the collector stores: it must decode back to the same JSON.
func TestChainJSONRoundTrip(t *testing.T) {
	for _, c := range Fold(propertyEvents(t)) {
		b, err := json.Marshal(c)
		require.NoError(t, err)
		var back Chain
		require.NoError(t, json.Unmarshal(b, &back))
		b2, err := json.Marshal(&back)
		require.NoError(t, err)
		assert.JSONEq(t, string(b), string(b2))
		assert.Equal(t, string(b), string(b2), "byte-identical")
	}
}

func TestChainJSONGolden(t *testing.T) {
	golden(t, "chains-deny.json", Fold(corpusEvents(t, "deny")))
	golden(t, "chains-subagent.json", Fold(subagentScenario("s", timeOf(1795514880000000000))))
}

func TestEnumsText(t *testing.T) {
	for _, r := range Reasons() {
		b, err := r.MarshalText()
		require.NoError(t, err)
		var back Reason
		require.NoError(t, back.UnmarshalText(b))
		assert.Equal(t, r, back)
	}
	_, err := ReasonUnknown.MarshalText()
	assert.ErrorIs(t, err, ErrMalformed)
	var r Reason
	require.NoError(t, r.UnmarshalText([]byte("from_the_future")))
	assert.Equal(t, ReasonUnknown, r)
	for tr := TriggerTerminal; tr < numTriggers; tr++ {
		var back Trigger
		require.NoError(t, back.UnmarshalText([]byte(tr.String())))
		assert.Equal(t, tr, back)
	}
	assert.Equal(t, "evict", OverflowEvict.String())
	assert.Equal(t, "exact", ConfidenceExact.String())
	assert.Equal(t, "transcript", ItemTranscript.String())
	assert.Equal(t, "no_identity", UnjoinableNoIdentity.String())
}
