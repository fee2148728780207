#include "grammar/constraint.hpp"

#include <map>
#include <mutex>
#include <simdjson.h>

#include "grammar/gbnf.hpp"
#include "grammar/json_schema.hpp"
#include "grammar/regex.hpp"

namespace pagedserve::grammar {

namespace {

constexpr std::size_t kMaxCompiled = 256;

Rules choice_rules(std::string_view source) {
  simdjson::dom::parser parser;
  simdjson::dom::array arr;
  if (parser.parse(source.data(), source.size()).get_array().get(arr) || arr.size() == 0)
    throw GrammarError("the choice must be a non-empty list of strings");
  std::vector<Expr> alts;
  for (auto item : arr) {
    std::string_view s;
    if (item.get_string().get(s)) throw GrammarError("the choice must be a non-empty list of strings");
    alts.push_back(literal(std::string(s)));
  }
  Rules r;
  r.rules["root"] = alternatives(std::move(alts));
  return r;
}

Rules rules_of(const Constraint& c) {
  if (c.kind == "json_schema") return json_schema_rules(c.source);
  if (c.kind == "json_object") return json_object_rules();
  if (c.kind == "regex") return regex_rules(c.source);
  if (c.kind == "choice") return choice_rules(c.source);
  if (c.kind == "grammar") return parse_gbnf(c.source);
  throw GrammarError("unknown constraint kind '" + c.kind + "'");
}

}  // namespace

std::shared_ptr<const Program> compile(const Constraint& c) {
  static std::mutex mutex;
  static std::map<std::pair<std::string, std::string>, std::shared_ptr<const Program>> compiled;
  const auto key = std::make_pair(c.kind, c.source);
  {
    std::lock_guard lock(mutex);
    if (auto it = compiled.find(key); it != compiled.end()) return it->second;
  }
  auto program = std::make_shared<const Program>(lower(rules_of(c)));
  std::lock_guard lock(mutex);
  if (compiled.size() >= kMaxCompiled) compiled.clear();
  compiled.emplace(key, program);
  return program;
}

}  // namespace pagedserve::grammar
