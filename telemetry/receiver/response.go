package receiver

import (
	"encoding/json"
	"strconv"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protowire"
)

// exportResponse encodes an Export{Logs,Metrics}ServiceResponse: empty on full success, with
// partial_success {rejected_log_records | rejected_data_points = 1, error_message = 2} when
// records were rejected.
func exportResponse(sig Signal, asJSON bool, rejected int64, msg string) []byte {
	if rejected == 0 && msg == "" {
		if asJSON {
			return []byte("{}")
		}
		return []byte{}
	}
	if asJSON {
		field := "rejectedLogRecords"
		if sig == SignalMetrics {
			field = "rejectedDataPoints"
		}
		m, _ := json.Marshal(msg)
		return []byte(`{"partialSuccess":{"` + field + `":"` + strconv.FormatInt(rejected, 10) + `","errorMessage":` + string(m) + `}}`)
	}
	var inner []byte
	if rejected != 0 {
		inner = protowire.AppendTag(inner, 1, protowire.VarintType)
		inner = protowire.AppendVarint(inner, uint64(rejected))
	}
	if msg != "" {
		inner = protowire.AppendTag(inner, 2, protowire.BytesType)
		inner = protowire.AppendString(inner, msg)
	}
	out := protowire.AppendTag(nil, 1, protowire.BytesType)
	return protowire.AppendBytes(out, inner)
}

// statusBody encodes a google.rpc.Status {code = 1, message = 2}.
func statusBody(asJSON bool, code codes.Code, msg string) []byte {
	if asJSON {
		m, _ := json.Marshal(msg)
		return []byte(`{"code":` + strconv.Itoa(int(code)) + `,"message":` + string(m) + `}`)
	}
	var out []byte
	if code != 0 {
		out = protowire.AppendTag(out, 1, protowire.VarintType)
		out = protowire.AppendVarint(out, uint64(code))
	}
	if msg != "" {
		out = protowire.AppendTag(out, 2, protowire.BytesType)
		out = protowire.AppendString(out, msg)
	}
	return out
}

// grpcCode maps an outcome to its gRPC status code.
func grpcCode(k outcomeKind) codes.Code {
	switch k {
	case outcomeOK:
		return codes.OK
	case outcomeUnauthorized:
		return codes.Unauthenticated
	case outcomeUnsupported:
		return codes.Unimplemented
	case outcomeTooLarge:
		return codes.ResourceExhausted
	case outcomeTimeout:
		return codes.DeadlineExceeded
	case outcomeSaturated:
		return codes.ResourceExhausted
	case outcomeUnavailable:
		return codes.Unavailable
	case outcomeNotFound:
		return codes.NotFound
	case outcomeMethod:
		return codes.Unimplemented
	}
	return codes.InvalidArgument
}
