package correlate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Activity is one record of the Compliance API activity feed (GET /v1/compliance/activities):
// an admin, configuration or sign-in action, not a per-prompt action. Fields the type adds
// beyond the common ones are kept in Extra.
type Activity struct {
	ID               string    `json:"id"`
	CreatedAt        time.Time `json:"created_at"`
	OrganizationID   string    `json:"organization_id,omitempty"` // tagged org_…, may be null
	OrganizationUUID string    `json:"organization_uuid,omitempty"`
	Type             string    `json:"type"`
	Actor            Actor     `json:"actor"`
	// Extra holds the type-specific fields, as raw JSON by key.
	Extra map[string]json.RawMessage `json:"extra,omitempty"`
}

// Actor is who performed an [Activity]. Type is user_actor, api_actor, admin_api_key_actor,
// unauthenticated_user_actor, anthropic_actor or scim_directory_sync_actor; UserID is the
// tagged user id (user_…) that equals the events' user.account_id.
type Actor struct {
	Type         string `json:"type,omitempty"`
	UserID       string `json:"user_id,omitempty"`
	EmailAddress string `json:"email_address,omitempty"`
	IPAddress    string `json:"ip_address,omitempty"`
	UserAgent    string `json:"user_agent,omitempty"`
	APIKeyID     string `json:"api_key_id,omitempty"`
}

// ActivityPage is one page of the activity feed.
type ActivityPage struct {
	Data    []Activity `json:"data"`
	HasMore bool       `json:"has_more"`
	FirstID string     `json:"first_id,omitempty"`
	LastID  string     `json:"last_id,omitempty"`
}

// LocalSession is one Cowork or Claude Code session on a user's machine
// (/v1/compliance/apps/sessions/local). CreatedAt is the earliest call still retained.
type LocalSession struct {
	ID               string      `json:"id"` // clls_…
	ProductSurface   string      `json:"product_surface"`
	User             SessionUser `json:"user"`
	OrganizationUUID string      `json:"organization_uuid,omitempty"`
	WorkspaceID      string      `json:"workspace_id,omitempty"`
	CreatedAt        time.Time   `json:"created_at"`
}

// SessionUser names a local session's user.
type SessionUser struct {
	ID           string `json:"id"`
	EmailAddress string `json:"email_address,omitempty"`
}

// SessionPage is one page of the local-session list.
type SessionPage struct {
	Data     []LocalSession `json:"data"`
	NextPage string         `json:"next_page,omitempty"`
}

// Message is one transcript message of a local session (…/{id}/messages).
type Message struct {
	ID         string    `json:"id"`
	Role       string    `json:"role,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	Content    []Block   `json:"content"`
	Provenance string    `json:"provenance,omitempty"`
}

// Block is one content block of a [Message]: text, tool_use (ID toolu_…, Name, Input as a JSON
// string, possibly truncated) or tool_result (ToolUseID, IsError).
type Block struct {
	Type      string `json:"type"`
	Text      string `json:"text,omitempty"`
	ID        string `json:"id,omitempty"`
	Name      string `json:"name,omitempty"`
	Input     string `json:"input,omitempty"`
	Truncated bool   `json:"truncated,omitempty"`
	ToolUseID string `json:"tool_use_id,omitempty"`
	IsError   bool   `json:"is_error,omitempty"`
	// Content is a tool_result's content (a string or blocks), as raw JSON.
	Content json.RawMessage `json:"content,omitempty"`
}

// MessagePage is one page of a session's messages.
type MessagePage struct {
	Data     []Message `json:"data"`
	NextPage string    `json:"next_page,omitempty"`
}

// ComplianceDecodeOptions configures the Compliance API decoders. The zero value is usable:
// 64 MiB input at most, unknown fields ignored.
type ComplianceDecodeOptions struct {
	// MaxBytes bounds the input; 0 means 64 MiB.
	MaxBytes int
	// Strict rejects unknown fields (each bad record is reported, the others kept).
	Strict bool
}

const defaultComplianceMax = 64 << 20

// RecordError reports one record of a page that could not be decoded.
type RecordError struct {
	Index int // position in data
	Err   error
}

// Error names the record's position and the decoder's complaint.
func (e *RecordError) Error() string { return fmt.Sprintf("correlate: record %d: %v", e.Index, e.Err) }

// Unwrap returns ErrMalformed and the decoder's error.
func (e *RecordError) Unwrap() []error { return []error{ErrMalformed, e.Err} }

// envelope is a page: {"data": [...], …}. A bare array is accepted as data.
type envelope struct {
	Data     []json.RawMessage `json:"data"`
	HasMore  bool              `json:"has_more"`
	FirstID  string            `json:"first_id"`
	LastID   string            `json:"last_id"`
	NextPage string            `json:"next_page"`
}

func (o ComplianceDecodeOptions) envelope(b []byte) (envelope, error) {
	var env envelope
	max := o.MaxBytes
	if max <= 0 {
		max = defaultComplianceMax
	}
	if len(b) > max {
		return env, fmt.Errorf("%w: %d bytes > %d", ErrTooLarge, len(b), max)
	}
	t := bytes.TrimSpace(b)
	if len(t) > 0 && t[0] == '[' {
		if err := json.Unmarshal(t, &env.Data); err != nil {
			return env, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		return env, nil
	}
	if err := json.Unmarshal(t, &env); err != nil {
		return env, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return env, nil
}

// decodeEach decodes every record, keeping the good ones and joining the errors.
func decodeEach[T any](o ComplianceDecodeOptions, data []json.RawMessage, check func(*T) error) ([]T, error) {
	out := make([]T, 0, len(data))
	var errs []error
	for i, raw := range data {
		var v T
		dec := json.NewDecoder(bytes.NewReader(raw))
		if o.Strict {
			dec.DisallowUnknownFields()
		}
		err := dec.Decode(&v)
		if err == nil && check != nil {
			err = check(&v)
		}
		if err != nil {
			errs = append(errs, &RecordError{Index: i, Err: err})
			continue
		}
		out = append(out, v)
	}
	return out, errors.Join(errs...)
}

var activityFields = map[string]bool{"id": true, "created_at": true, "organization_id": true, "organization_uuid": true, "type": true, "actor": true}

// DecodeActivities decodes an activity-feed page; see [ComplianceDecodeOptions.DecodeActivities].
func DecodeActivities(b []byte) (ActivityPage, error) {
	return ComplianceDecodeOptions{}.DecodeActivities(b)
}

// DecodeActivities decodes an activity-feed page ({"data": [...], "has_more", "first_id",
// "last_id"}, or a bare array). Every record needs an id and a created_at; type-specific
// fields go to Extra (so Strict applies to the actor only). Records that fail are reported as
// [*RecordError]s joined, and the others returned.
func (o ComplianceDecodeOptions) DecodeActivities(b []byte) (ActivityPage, error) {
	env, err := o.envelope(b)
	page := ActivityPage{HasMore: env.HasMore, FirstID: env.FirstID, LastID: env.LastID}
	if err != nil {
		return page, err
	}
	type wire struct {
		ID               string          `json:"id"`
		CreatedAt        time.Time       `json:"created_at"`
		OrganizationID   *string         `json:"organization_id"`
		OrganizationUUID *string         `json:"organization_uuid"`
		Type             string          `json:"type"`
		Actor            json.RawMessage `json:"actor"`
	}
	var errs []error
	for i, raw := range env.Data {
		var w wire
		var all map[string]json.RawMessage
		err := json.Unmarshal(raw, &w)
		if err == nil {
			err = json.Unmarshal(raw, &all)
		}
		if err == nil && (w.ID == "" || w.CreatedAt.IsZero()) {
			err = errors.New("missing id or created_at")
		}
		var actor Actor
		if err == nil && len(w.Actor) > 0 && string(w.Actor) != "null" {
			dec := json.NewDecoder(bytes.NewReader(w.Actor))
			if o.Strict {
				dec.DisallowUnknownFields()
			}
			err = dec.Decode(&actor)
		}
		if err != nil {
			errs = append(errs, &RecordError{Index: i, Err: err})
			continue
		}
		a := Activity{ID: w.ID, CreatedAt: w.CreatedAt.UTC(), Type: w.Type, Actor: actor}
		if w.OrganizationID != nil {
			a.OrganizationID = *w.OrganizationID
		}
		if w.OrganizationUUID != nil {
			a.OrganizationUUID = *w.OrganizationUUID
		}
		for k, v := range all {
			if !activityFields[k] {
				if a.Extra == nil {
					a.Extra = map[string]json.RawMessage{}
				}
				a.Extra[k] = v
			}
		}
		page.Data = append(page.Data, a)
	}
	return page, errors.Join(errs...)
}

// DecodeLocalSessions decodes a local-session list page; see
// [ComplianceDecodeOptions.DecodeLocalSessions].
func DecodeLocalSessions(b []byte) (SessionPage, error) {
	return ComplianceDecodeOptions{}.DecodeLocalSessions(b)
}

// DecodeLocalSessions decodes a local-session list page ({"data": [...], "next_page"}, or a
// bare array). Every session needs an id. Bad records are reported as [*RecordError]s joined.
func (o ComplianceDecodeOptions) DecodeLocalSessions(b []byte) (SessionPage, error) {
	env, err := o.envelope(b)
	page := SessionPage{NextPage: env.NextPage}
	if err != nil {
		return page, err
	}
	page.Data, err = decodeEach(o, env.Data, func(s *LocalSession) error {
		if s.ID == "" {
			return errors.New("missing id")
		}
		s.CreatedAt = s.CreatedAt.UTC()
		return nil
	})
	return page, err
}

// DecodeMessages decodes a page of session messages; see [ComplianceDecodeOptions.DecodeMessages].
func DecodeMessages(b []byte) (MessagePage, error) {
	return ComplianceDecodeOptions{}.DecodeMessages(b)
}

// DecodeMessages decodes a page of session messages ({"data": [...], "next_page"}, or a bare
// array), keeping their order (messages of one inference call share a created_at). Bad
// records are reported as [*RecordError]s joined.
func (o ComplianceDecodeOptions) DecodeMessages(b []byte) (MessagePage, error) {
	env, err := o.envelope(b)
	page := MessagePage{NextPage: env.NextPage}
	if err != nil {
		return page, err
	}
	page.Data, err = decodeEach(o, env.Data, func(m *Message) error {
		m.CreatedAt = m.CreatedAt.UTC()
		return nil
	})
	return page, err
}

// ToolUseIDs returns the tool_use ids a transcript names (tool_use blocks and tool_result
// references), in order of first appearance.
func ToolUseIDs(msgs []Message) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range msgs {
		for _, b := range m.Content {
			id := b.ID
			if b.Type == "tool_result" {
				id = b.ToolUseID
			} else if b.Type != "tool_use" {
				continue
			}
			if id != "" && !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	return out
}
