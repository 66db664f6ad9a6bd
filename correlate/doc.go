// Package correlate reconstructs what every agent did, per prompt and per session, from the
// log events that Claude Cowork and Claude Code export.
//
// Every event produced for one user prompt carries the same prompt.id. A [Chain] is everything
// done for one (session.id, prompt.id): the prompt, every API call with tokens and cost, API
// errors, every tool call with its permission decision and result (paired on tool_use_id), MCP
// servers and tools, skills, plugins, subagents, files touched, the final response and totals,
// with a completeness verdict and the reasons. Events without a prompt.id form the session's
// preamble chain. A [Session] groups a session's chains.
//
// Two entry points fold events into chains with the same code:
//
//   - [Assembler] is the streaming form: add events in any order from many sessions at once;
//     chains close on the first of a terminal hint plus a quiet period, an idle timeout, a
//     maximum age, or a maximum number of events or bytes, and are handed to a [Consumer]. Late
//     events emit a new version of the same chain; duplicates from retried exports are dropped
//     and counted; memory is bounded. [Assembler.Stats] exposes counters for metrics.
//   - [Fold] is the batch form: it gives, from a stored set of events, the chains the stream
//     gave.
//
// Around the chains:
//
//   - [Join] joins chains with Anthropic Compliance API records ([Activity], [LocalSession],
//     [Message]) into one [Timeline] per user, each item with a [Confidence].
//   - [ECS], [OCSF], [HEC] and [GenAI] normalise events and chains for SIEMs (Elastic Common
//     Schema, OCSF, Splunk HEC, OpenTelemetry GenAI semantic conventions).
//   - [PartitionKey] routes events so that one assembler per Collector instance sees whole
//     sessions.
//
// DESIGN.md in this directory records the decisions and the alternatives rejected.
package correlate
