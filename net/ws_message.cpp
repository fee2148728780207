#include "net/ws_message.hpp"

#include "net/json_read.hpp"

namespace pagedserve::net {

namespace {

using simdjson::dom::element;

// The id as written, or "" when missing or not a usable string.
std::string peek_id(simdjson::dom::object obj) {
  std::string_view id;
  if (obj["id"].get(id) || id.size() > kMaxWsIdBytes) return "";
  return std::string(id);
}

std::string read_id(simdjson::dom::object obj) {
  element v;
  if (obj["id"].get(v)) throw invalid_request("id", "the message needs an \"id\" string");
  std::string id = read_string(v, "id", kMaxWsIdBytes);
  if (id.empty()) throw invalid_request("id", "id must not be empty");
  return id;
}

WsMessage parse_object_message(simdjson::dom::object obj, const InputLimits& limits) {
  element type_value;
  if (obj["type"].get(type_value)) throw invalid_request("type", "the message needs a \"type\": generate or cancel");
  const std::string type = read_string(type_value, "type", 64);
  if (type == "cancel") return WsCancel{read_id(obj)};
  if (type != "generate") throw invalid_request("type", "unknown message type '" + type + "' (generate or cancel)");
  WsGenerate g;
  g.id = read_id(obj);
  read_completion_fields(obj, limits, g.request);  // "type" and "id" are not completion fields: skipped
  return g;
}

}  // namespace

WsMessage parse_ws_message(std::string_view text, const InputLimits& limits) {
  simdjson::dom::object obj;
  try {
    obj = parse_object(thread_parser(), text);
  } catch (const ApiError& e) {
    throw WsParseError{"", e};
  }
  try {
    return parse_object_message(obj, limits);
  } catch (const ApiError& e) {
    throw WsParseError{peek_id(obj), e};
  }
}

}  // namespace pagedserve::net
