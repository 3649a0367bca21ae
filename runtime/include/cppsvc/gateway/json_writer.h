// The gateway's responses in proto3 JSON, written straight from the message
// by reflection for the shapes responses mostly have. protobuf's own
// MessageToJsonString (with default values printed) serializes the message
// to binary and converts that through a type resolver; on the gateway's
// GET route that conversion was a fifth of the gateway's CPU. The output is
// byte for byte what protobuf writes (tests/runtime/gateway_json_writer_test
// compares the two on random messages of every supported shape); the gain
// is in bench/README.md ("Gateway").
#pragma once

#include <string>
#include <string_view>

#include <google/protobuf/message.h>

namespace cppsvc::gateway {

// Writes `message` as protobuf's MessageToJsonString does with
// always_print_primitive_fields (lowerCamelCase names, 64-bit integers
// quoted, enums by name) into `out`, and returns true. Returns false, with
// `out` unspecified, for what it leaves to protobuf: messages of proto2
// files, oneofs (and proto3 `optional`), maps, floating point and bytes
// fields, well-known types other than Timestamp, timestamps out of JSON's
// range, and strings that are not valid UTF-8.
bool WriteJsonFast(const google::protobuf::Message& message, std::string& out);

// Whether `text` is valid UTF-8 (no overlong forms, surrogates or code
// points above U+10FFFF).
bool IsValidUtf8(std::string_view text);

// Whether WriteJsonFast handles messages of this type (their values aside).
bool JsonFastShape(const google::protobuf::Descriptor& type);

}  // namespace cppsvc::gateway
