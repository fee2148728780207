#pragma once
// The reference renderer: Debian's python3-jinja2 set up as Hugging Face's
// transformers sets it up (tests/jinja/hf_render.py), and this engine's
// result for the same case, side by side.

#include <simdjson.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "jinja/json_value.hpp"
#include "jinja/template.hpp"
#include "net/json_writer.hpp"

namespace pagedserve::testing {

struct RenderCase {
  std::string template_source;
  std::string variables_json;  // a JSON object
  std::int64_t now = 1767225600;  // 2026-01-01, so strftime_now is reproducible
};

struct Rendered {
  std::optional<std::string> text;  // none: an error
  std::string error;
};

// The Python that imports jinja2: Debian's, not whatever python3 is first on PATH.
inline std::string reference_python() { return "/usr/bin/python3"; }

inline std::vector<Rendered> render_with_jinja2(const std::vector<RenderCase>& cases) {
  std::string input = "[";
  for (const auto& c : cases)
    input += (input.size() > 1 ? "," : "") + std::string("{\"template\":") + net::json_quote(c.template_source) +
             ",\"variables\":" + c.variables_json + ",\"now\":" + std::to_string(c.now) + "}";
  input += "]";
  const auto dir = std::filesystem::temp_directory_path();
  const std::string in_path = (dir / ("jinja_cases_" + std::to_string(::getpid()) + ".json")).string();
  const std::string out_path = in_path + ".out";
  std::ofstream(in_path, std::ios::binary) << input;
  const std::string cmd = reference_python() + " " + PAGEDSERVE_SOURCE_DIR + "/tests/jinja/hf_render.py < " + in_path +
                          " > " + out_path;
  const int rc = std::system(cmd.c_str());
  std::ifstream in(out_path, std::ios::binary);
  const std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove(in_path);
  std::filesystem::remove(out_path);
  if (rc != 0) throw std::runtime_error("the reference renderer failed (is python3-jinja2 installed?)");
  simdjson::dom::parser parser;
  simdjson::dom::array answers;
  if (parser.parse(out).get(answers))
    throw std::runtime_error("the reference renderer's answer is not a JSON list: " + out.substr(0, 300));
  std::vector<Rendered> results;
  for (auto r : answers) {
    std::string_view s;
    if (!r["text"].get(s)) results.push_back({std::string(s), ""});
    else results.push_back({std::nullopt, std::string(r["error"].get_string().value())});
  }
  return results;
}

inline Rendered render_with_engine(const RenderCase& c) {
  try {
    jinja::Template t(c.template_source);
    simdjson::dom::parser parser;
    const jinja::Value vars = jinja::from_json(parser.parse(c.variables_json).value());
    jinja::RenderOptions options;
    const std::time_t now = c.now;
    options.now = [now] { return now; };
    return {t.render(vars.as_dict(), options), ""};
  } catch (const std::exception& e) {
    return {std::nullopt, e.what()};
  }
}

}  // namespace pagedserve::testing
