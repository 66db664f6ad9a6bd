package correlate

import (
	"strings"

	"github.com/coworkgov/cowork/telemetry"
)

// HECFormat is the body of a Splunk HEC event. Its zero value, HECFormatECS, is the default.
type HECFormat uint8

// The HEC body formats.
const (
	// HECFormatECS puts the [ECS] document in event.
	HECFormatECS HECFormat = iota
	// HECFormatOCSF puts the [OCSF] event in event; sourcetype names the OCSF class.
	HECFormatOCSF
)

// HECOptions configures [HEC] and [HECChain]. The zero value is usable.
type HECOptions struct {
	SIEMOptions
	Format HECFormat
	// Index and Source are copied into the envelope when set.
	Index  string
	Source string
	// SourcetypePrefix starts the sourcetype; default "anthropic".
	SourcetypePrefix string
}

// HECEvent is one Splunk HTTP Event Collector envelope (POST /services/collector/event). Send
// several in one request as concatenated JSON objects.
type HECEvent struct {
	// Time is epoch seconds with milliseconds as decimals, from event.timestamp.
	Time       float64  `json:"time"`
	Host       string   `json:"host,omitempty"`
	Source     string   `json:"source,omitempty"`
	Sourcetype string   `json:"sourcetype"`
	Index      string   `json:"index,omitempty"`
	Event      Document `json:"event"`
	// Fields are indexed fields (prompt_id, session_id, user_id, chain_id) for fast tstats
	// joins.
	Fields map[string]string `json:"fields"`
}

// HEC wraps one event in a HEC envelope: sourcetype <prefix>:<service.name>:<event name>
// (ECS) or <prefix>:ocsf:<class_uid> (OCSF); host is left to enrichment (the resource has no
// host.name).
func HEC(ev telemetry.Event, opts HECOptions) HECEvent {
	r := ev.EventRecord()
	prefix := cmpOr(opts.SourcetypePrefix, "anthropic")
	h := HECEvent{
		Time:   float64(r.Time().UnixMilli()) / 1000,
		Source: opts.Source, Index: opts.Index,
		Fields: hecFields(r.PromptID, r.SessionID, r.AccountID),
	}
	if r.SessionID != "" {
		h.Fields["chain_id"] = ChainID(r.SessionID, r.PromptID)
	}
	switch opts.Format {
	case HECFormatOCSF:
		h.Event = OCSF(ev, opts.SIEMOptions)
		h.Sourcetype = prefix + ":ocsf:" + itoa64(int64(h.Event["class_uid"].(int)))
	default:
		h.Event = ECS(ev, opts.SIEMOptions)
		product := "claude-code"
		if r.Resource != nil && r.Resource.ServiceName != "" {
			product = r.Resource.ServiceName
		}
		h.Sourcetype = prefix + ":" + product + ":" + ev.Name()
	}
	return h
}

// HECChain wraps a chain's [ECSChain] summary in a HEC envelope with sourcetype
// <prefix>:<product>:chain, timed at the chain's start.
func HECChain(c *Chain, opts HECOptions) HECEvent {
	prefix := cmpOr(opts.SourcetypePrefix, "anthropic")
	h := HECEvent{
		Time:   float64(c.StartedAt.UnixMilli()) / 1000,
		Source: opts.Source, Index: opts.Index,
		Sourcetype: prefix + ":" + strings.ToLower(cmpOr(c.Product, "claude-code")) + ":chain",
		Event:      ECSChain(c, opts.SIEMOptions),
		Fields:     hecFields(c.PromptID, c.SessionID, c.User.AccountID),
	}
	h.Fields["chain_id"] = c.ID
	return h
}

func hecFields(prompt, session, user string) map[string]string {
	f := map[string]string{}
	for k, v := range map[string]string{"prompt_id": prompt, "session_id": session, "user_id": user} {
		if v != "" {
			f[k] = v
		}
	}
	return f
}
