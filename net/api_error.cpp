#include "net/api_error.hpp"

#include "net/json_writer.hpp"

namespace pagedserve::net {

ApiError invalid_request(const std::string& param, const std::string& message, const std::string& code) {
  return ApiError(400, "invalid_request_error", message, param, code);
}

ApiError submit_error(const engine::SubmitResult& refused) {
  using engine::SubmitError;
  switch (refused.error) {
    case SubmitError::too_long:
      return ApiError(400, "invalid_request_error", refused.message, refused.param, "context_length_exceeded");
    case SubmitError::overloaded:
      return ApiError(503, "overloaded_error", refused.message, "", "server_overloaded");
    case SubmitError::shutting_down:
      return ApiError(503, "overloaded_error", refused.message, "", "shutting_down");
    case SubmitError::engine_dead:
      return ApiError(503, "server_error", refused.message, "", "engine_dead");
    case SubmitError::duplicate_id:
      return ApiError(400, "invalid_request_error", refused.message, refused.param.empty() ? "id" : refused.param,
                      "duplicate_id");
    case SubmitError::invalid_request:
    case SubmitError::none:
      break;
  }
  return ApiError(400, "invalid_request_error", refused.message, refused.param);
}

std::string ApiError::to_json() const {
  JsonWriter w;
  w.begin_object().key("error").begin_object();
  w.field("message", std::string_view(what())).field("type", type);
  w.key("param");
  param.empty() ? w.null() : w.value(param);
  w.key("code");
  code.empty() ? w.null() : w.value(code);
  w.end_object().end_object();
  return w.take();
}

}  // namespace pagedserve::net
