// Package redact is a fast, fail-closed redaction engine for Claude Code and Cowork telemetry.
// It strips prompt text, command lines, file paths and contents, MCP arguments, e-mail
// addresses, account names and pasted secrets from [telemetry.Event]s before they reach
// long-term storage, while keeping the identifiers that correlation needs.
//
// # Policies
//
// A [Policy] is a list of [Rule]s. Each rule says where it applies (event names; attribute
// keys or full paths inside JSON-valued attributes such as "tool_input.file_path", with
// globs; record or resource attributes), what it matches (the whole value, or the detections
// of some [Detector]s inside it) and how it changes the match (an [Action]: drop, mask with a
// text, entity label such as "[EMAIL]", partial mask keeping the last digits or an e-mail's
// domain, keyed HMAC-SHA256 pseudonym, length only, truncate, generalise a path). Three
// presets exist: [Strict] (the privacy-sensitive default), [Balanced] and [None]. Admins
// write their own policies in YAML or JSON and load them with [ParsePolicy] or [LoadPolicy],
// optionally extending a preset; unknown fields and bad patterns are errors with their line.
//
// # Detectors
//
// Built-in detectors find vendor-prefixed secrets (AWS, GitHub, GitLab, Slack, Stripe,
// Google, OpenAI, Anthropic, npm, PyPI, Hugging Face, SendGrid, DigitalOcean, Shopify, age,
// Vault, Databricks), private key blocks, JWTs, Authorization and Cookie headers, URL
// credentials and secret query parameters, secret key=value assignments, command-line secret
// flags, random-looking values next to a sensitive key, e-mail addresses, payment cards
// (issuer table and Luhn), IBANs (mod-97), US SSNs, phone numbers, IPv4 and IPv6 addresses
// and user names inside home-directory paths. Each has a cheap gate (byte classes of the
// text, then a literal searched with strings.Index) and a validator; no regular expression
// runs on the hot path.
//
// JSON-valued attributes (tool_input, tool_parameters, …) are parsed, redacted member by
// member and re-serialised only when something changed; command lines are tokenised so a
// flag's value is masked and the program name kept.
//
// # Guarantees
//
//   - Fail closed: a value that cannot be processed (invalid UTF-8, a declared JSON value that
//     does not parse, a value over the size limit) is removed, never passed through.
//   - Idempotent and deterministic: redacting twice equals redacting once, and for a given
//     key the same input gives the same output.
//   - The correlation identifiers prompt.id, session.id, tool_use_id, message.uuid and
//     event.sequence (see [ProtectedKeys]) are never changed.
//   - Audit: every changed event carries counts per rule ([AuditKeyCount], [AuditKeyRules]);
//     paths only at [AuditKeys]; values never. The engine never logs a value.
//
// # Entry points
//
// [New] compiles a policy into an [Engine]; [Engine.Event] redacts one event in place,
// [Engine.Logs] a decoded batch (each resource once), [Engine.Value] one attribute value and
// [Engine.Resource] one resource. An Engine is safe for concurrent use.
package redact
