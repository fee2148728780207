#pragma once
// The one shape every refusal takes, OpenAI style:
//   {"error": {"message": "...", "type": "...", "param": "..."|null, "code": "..."|null}}
// with the HTTP status it travels under. Parsing, validation and the engine's
// refusals all become an ApiError, so every route answers bad input the same
// way.

#include <stdexcept>
#include <string>

#include "engine/request.hpp"

namespace pagedserve::net {

struct ApiError : std::runtime_error {
  ApiError(int status_code, std::string type_name, const std::string& message, std::string param_name = "",
           std::string code_name = "")
      : std::runtime_error(message),
        status(status_code),
        type(std::move(type_name)),
        param(std::move(param_name)),
        code(std::move(code_name)) {}

  int status;         // HTTP status
  std::string type;   // invalid_request_error, not_found_error, ...
  std::string param;  // the request field at fault ("" -> null)
  std::string code;   // machine-readable detail ("" -> null)

  // {"error": {...}} for HTTP bodies and SSE error events.
  std::string to_json() const;
};

// 400 invalid_request_error naming `param`.
ApiError invalid_request(const std::string& param, const std::string& message, const std::string& code = "");

// The engine's refusal of a submit() as the error a client sees.
ApiError submit_error(const engine::SubmitResult& refused);

inline std::string error_body(const ApiError& e) { return e.to_json(); }

}  // namespace pagedserve::net
