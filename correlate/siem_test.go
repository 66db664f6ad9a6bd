package correlate

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/telemetry"
)

func genaiStrings(kv []telemetry.KeyValue) []string {
	out := make([]string, len(kv))
	for i, a := range kv {
		out[i] = a.Key + "=" + a.Value.Text()
	}
	return out
}

// TestSIEMGolden maps every event and chain of a few corpus scenarios with every mapping and
// compares with testdata/golden/siem-<scenario>.json (regenerate with go test -update).
func TestSIEMGolden(t *testing.T) {
	for _, sc := range []string{"deny", "files", "mcp", "fatal", "web", "skill"} {
		t.Run("scenario="+sc, func(t *testing.T) {
			evs := corpusEvents(t, sc)
			type out struct {
				ECS      []Document `json:"ecs"`
				OCSF     []Document `json:"ocsf"`
				HEC      []HECEvent `json:"hec_ocsf"`
				GenAI    [][]string `json:"genai"`
				ChainECS []Document `json:"chain_ecs"`
				ChainHEC []HECEvent `json:"chain_hec"`
			}
			var o out
			for _, e := range evs {
				o.ECS = append(o.ECS, ECS(e, SIEMOptions{}))
				o.OCSF = append(o.OCSF, OCSF(e, SIEMOptions{}))
				o.HEC = append(o.HEC, HEC(e, HECOptions{Format: HECFormatOCSF, Index: "cowork"}))
				o.GenAI = append(o.GenAI, genaiStrings(GenAI(e, SIEMOptions{})))
			}
			for _, c := range Fold(evs) {
				o.ChainECS = append(o.ChainECS, ECSChain(c, SIEMOptions{}))
				o.ChainHEC = append(o.ChainHEC, HECChain(c, HECOptions{}))
			}
			golden(t, "siem-"+sc+".json", o)
		})
	}
}

func TestECSMapping(t *testing.T) {
	_, cs := chainsByPrompt(Fold(corpusEvents(t, "deny")))
	require.Len(t, cs, 1)
	var decision, request telemetry.Event
	for _, e := range cs[0].Events {
		switch x := e.(type) {
		case *telemetry.ToolDecision:
			if x.Decision == telemetry.DecisionReject {
				decision = e
			}
		case *telemetry.APIRequest:
			if request == nil {
				request = e
			}
		}
	}
	require.NotNil(t, decision)
	d := ECS(decision, SIEMOptions{})
	assert.Equal(t, []string{"iam"}, d.get("event.category"))
	assert.Equal(t, []string{"denied"}, d.get("event.type"))
	assert.Equal(t, "failure", d.get("event.outcome"))
	assert.Contains(t, d.get("process.command_line"), "rm -rf")
	assert.Equal(t, "rejected", d.get("error.type"))
	assert.Equal(t, "config", d.get("claude_code.tool.decision_source"))
	assert.Equal(t, "user_016WYJqouEY7JdQKTzgdXcqL", d.get("user.id"), "the account id, joinable with the Compliance API")
	assert.Equal(t, decision.EventRecord().UserID, d.get("device.id"), "the install hash is a device, not a user")
	assert.Equal(t, EventID(decision), d.get("event.id"))

	r := request.(*telemetry.APIRequest)
	g := ECS(request, SIEMOptions{})
	assert.Equal(t, r.InputTokens+r.CacheReadTokens+r.CacheCreationTokens, g.get("gen_ai.usage.input_tokens"))
	assert.Equal(t, "chat", g.get("gen_ai.operation.name"))
	assert.Equal(t, cs[0].SessionID, g.get("gen_ai.conversation.id"))

	o := OCSF(decision, SIEMOptions{})
	assert.Equal(t, OCSFProcessActivity, o.get("class_uid"))
	assert.Equal(t, OCSFProcessActivity*100+1, o.get("type_uid"))
	assert.Equal(t, 2, o.get("action_id"))
	assert.Equal(t, cs[0].PromptID, o.get("metadata.correlation_uid"))

	h := HEC(decision, HECOptions{})
	assert.Equal(t, "anthropic:cowork:tool_decision", h.Sourcetype)
	assert.Equal(t, map[string]string{"prompt_id": cs[0].PromptID, "session_id": cs[0].SessionID,
		"user_id": "user_016WYJqouEY7JdQKTzgdXcqL", "chain_id": cs[0].ID}, h.Fields)
	b, err := json.Marshal(h)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"sourcetype":"anthropic:cowork:tool_decision"`)

	cd := ECSChain(cs[0], SIEMOptions{})
	assert.Equal(t, []string{"Bash (rejected by config)", "Bash"}, cd.get("claude_code.chain.tools"))
	assert.Equal(t, cs[0].Totals.CostUSD, cd.get("claude_code.cost_usd"))
}

func TestSIEMContentOptIn(t *testing.T) {
	_, cs := chainsByPrompt(Fold(corpusEvents(t, "files")))
	prompt := cs[0].Events[0]
	require.Equal(t, telemetry.NameUserPrompt, prompt.Name())
	assert.Nil(t, ECS(prompt, SIEMOptions{}).get("gen_ai.input.messages"))
	assert.NotEmpty(t, ECS(prompt, SIEMOptions{Content: true}).get("gen_ai.input.messages"))
	assert.Nil(t, OCSF(prompt, SIEMOptions{}).get("message"))
	for _, kv := range GenAIChain(cs[0], SIEMOptions{}) {
		assert.NotEqual(t, "gen_ai.input.messages", kv.Key)
	}
}

func TestEventIDStable(t *testing.T) {
	a := corpusEvents(t, "mcp")
	b := corpusEvents(t, "mcp")
	ids := map[string]bool{}
	for i := range a {
		assert.Equal(t, EventID(a[i]), EventID(b[i]), "a retried copy has the same id")
		ids[EventID(a[i])] = true
	}
	assert.Len(t, ids, len(a))
}
