package redact

import (
	"log/slog"
	"strconv"
)

// AuditLevel says what the engine writes onto each redacted event. The zero value,
// AuditUnknown, is invalid in [WithAudit].
type AuditLevel uint8

// The audit levels.
const (
	AuditUnknown AuditLevel = iota
	AuditOff                // write nothing onto events; the returned Report still counts
	AuditCounts             // write AuditKeyCount and AuditKeyRules (counts per rule name); the default
	AuditKeys               // also write AuditKeyKeys: the paths of the changed values (never the values)
)

var auditNames = [...]string{"unknown", "off", "counts", "keys"}

// String returns "off", "counts" or "keys".
func (a AuditLevel) String() string {
	if int(a) < len(auditNames) {
		return auditNames[a]
	}
	return "audit(" + strconv.Itoa(int(a)) + ")"
}

// The attributes the engine writes onto an event it changed (see [AuditLevel]). They are
// protected: the engine never redacts them, so a second pass leaves them as they are.
const (
	AuditKeyCount = "cowork.redaction.count" // int: values changed, removed or failed
	AuditKeyRules = "cowork.redaction.rules" // map: rule name → values it changed
	AuditKeyKeys  = "cowork.redaction.keys"  // string array: changed paths, at AuditKeys only
)

// AuditAttrs is the most attributes the audit adds to an event: a decoder leaving that much
// room after each record's (telemetry.DecodeOptions.SpareAttrs) spares the engine a copy of
// the event's attribute list.
const AuditAttrs = 3

type config struct {
	keyID     string
	key       []byte
	audit     AuditLevel
	cacheSize int
	maxValue  int
	logger    *slog.Logger
}

// Option configures [New]. Options are sealed: only this package makes them.
type Option interface{ apply(*config) error }

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

// WithKey sets the HMAC-SHA256 key of [ActionHash] pseudonyms and its id, which is written
// into every pseudonym ("email:k1:3f9a1c2b4d5e6f70") so that a key rotation is visible. The
// key must be at least 32 bytes (ErrKey otherwise); the id is 0–16 characters of
// [A-Za-z0-9_-]. The key is copied.
//
// Default: a random 32-byte key drawn from crypto/rand when New runs, with an empty id.
// Pseudonyms made with it are stable only for the life of that Engine, so the same e-mail
// gets a different pseudonym after a restart and cross-process joins break. Deployments
// that keep data must pass a persistent key (the collector keeps one in its data directory).
func WithKey(keyID string, key []byte) Option {
	return optionFunc(func(c *config) error {
		if len(key) < 32 || len(keyID) > 16 {
			return ErrKey
		}
		for i := 0; i < len(keyID); i++ {
			if !isAlnum(keyID[i]) && keyID[i] != '_' && keyID[i] != '-' {
				return ErrKey
			}
		}
		c.keyID, c.key = keyID, append([]byte(nil), key...)
		return nil
	})
}

// WithAudit sets what is written onto redacted events. Default: AuditCounts.
func WithAudit(level AuditLevel) Option {
	return optionFunc(func(c *config) error {
		if level == AuditUnknown || level > AuditKeys {
			return &PolicyError{Field: "audit", Msg: "unknown audit level " + level.String()}
		}
		c.audit = level
		return nil
	})
}

// WithCacheSize sets how many short string results (up to 256 bytes: e-mail addresses,
// paths, account names, enumerated values, small JSON documents) the engine remembers, so a
// value repeated on every event is redacted once: n rounded down to a power of two, and
// besides the last two results each attribute path used. The cache holds (copies of) the
// original values in memory. 0 disables it. Default: 4096.
func WithCacheSize(n int) Option {
	return optionFunc(func(c *config) error {
		if n < 0 {
			n = 0
		}
		c.cacheSize = n
		return nil
	})
}

// WithMaxValueBytes sets the largest string value the engine processes; longer values are
// removed (fail closed) and counted as failed. Default: 4 MiB.
func WithMaxValueBytes(n int) Option {
	return optionFunc(func(c *config) error {
		if n <= 0 {
			return &PolicyError{Field: "max_value_bytes", Msg: "must be positive"}
		}
		c.maxValue = n
		return nil
	})
}

// WithLogger sets the logger for engine diagnostics (counts and policy problems, never
// values). Default: slog.Default().
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) error {
		if l != nil {
			c.logger = l
		}
		return nil
	})
}
