// Package emit writes typed telemetry events through the OpenTelemetry Go SDK
// (go.opentelemetry.io/otel/sdk/log and its OTLP exporters), so that a Go program or a
// simulator produces log records shaped like Claude Code's and Cowork's own: the body
// claude_code.<name>, the event.name attribute, every attribute in the CLI's order with the
// CLI's wire types (a "49" stays a string), the scope com.anthropic.claude_code.events with
// the CLI version, and the event's resource (service.name and the rest).
//
// Create an [Emitter] with [New], call [Emitter.Emit] for each event, and [Emitter.Shutdown]
// at the end (which flushes):
//
//	e, err := emit.New(ctx, emit.WithEndpoint("http://127.0.0.1:4318"), emit.WithInsecure())
//	…
//	err = e.Emit(ctx, ev)
//	…
//	err = e.Shutdown(ctx)
//
// The SDK's batch processor drops the oldest event when its queue is full; the Emitter avoids
// that by flushing (and waiting) every [WithFlushEvery] events, so a simulator that produces
// faster than the collector accepts is slowed down instead of losing events, and export
// errors come back from Emit.
//
// Protocols: http/protobuf (the default) and grpc. The OpenTelemetry Go OTLP/HTTP log exporter
// speaks protobuf only, so http/json is refused with [ErrUnsupportedProtocol]; to send
// OTLP/JSON, encode with telemetry.EncodeLogsJSON and POST it yourself.
//
// What the SDK cannot carry unchanged: resource attributes (and the keys of map values) are
// sorted by key by the SDK's attribute sets, so their wire order differs from the CLI's; their
// values and types are kept. Record attributes, body, timestamps and scope are kept exactly.
//
// OpenTelemetry's own types appear in this API only in [WithLoggerProvider], which plugs in a
// provider the caller already runs.
package emit
