// The Prometheus text format, checked by a reader of the exposition
// grammar written here (names, labels, values, one TYPE per family before
// its samples, cumulative histogram buckets ending at +Inf = _count).

#include "net/prometheus.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "net/metrics_page.hpp"

using namespace pagedserve::net;

namespace {

struct Exposition {
  std::map<std::string, std::string> types;  // family -> type
  std::map<std::string, double> samples;     // "name{labels}" -> value
  std::vector<std::pair<std::string, double>> ordered;
};

double parse_value(const std::string& v) {
  if (v == "+Inf") return INFINITY;
  if (v == "-Inf") return -INFINITY;
  if (v == "NaN") return NAN;
  return std::stod(v);
}

std::string family_of(const std::string& name, const std::map<std::string, std::string>& types) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string s(suffix);
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      auto base = name.substr(0, name.size() - s.size());
      if (types.count(base) && types.at(base) == "histogram") return base;
    }
  }
  return name;
}

Exposition read_exposition(const std::string& text) {
  static const std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .*)");
  static const std::regex type(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped))");
  static const std::regex sample(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\["\\n])*")(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\["\\n])*")*\})? ([-+]?([0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?|Inf)|NaN))");
  Exposition e;
  std::istringstream in(text);
  std::set<std::string> seen_families;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, m, help)) continue;
    if (std::regex_match(line, m, type)) {
      INFO(line);
      CHECK(e.types.count(m[1]) == 0);  // one TYPE per family
      e.types[m[1]] = m[2];
      continue;
    }
    INFO(line);
    REQUIRE(std::regex_match(line, m, sample));
    const std::string name = m[1];
    CHECK(e.types.count(family_of(name, e.types)) == 1);  // TYPE came first
    const std::string key = name + std::string(m[2]);
    CHECK(e.samples.count(key) == 0);  // no duplicate series
    const double v = parse_value(m[7]);
    e.samples[key] = v;
    e.ordered.emplace_back(key, v);
  }
  CHECK(!text.empty());
  CHECK(text.back() == '\n');
  return e;
}

// A histogram's buckets in order: ascending le, non-decreasing counts, +Inf = _count.
void check_histogram(const Exposition& e, const std::string& name) {
  REQUIRE(e.types.at(name) == "histogram");
  double last_le = -INFINITY, last_count = 0;
  bool saw_inf = false;
  for (const auto& [key, v] : e.ordered) {
    if (key.rfind(name + "_bucket{le=\"", 0) != 0) continue;
    const auto le_text = key.substr(name.size() + 12, key.size() - name.size() - 14);
    const double le = parse_value(le_text);
    CHECK(le > last_le);
    CHECK(v >= last_count);
    last_le = le;
    last_count = v;
    saw_inf = le_text == "+Inf";
  }
  CHECK(saw_inf);
  CHECK(e.samples.at(name + "_count") == last_count);
}

}  // namespace

TEST_CASE("a histogram counts observations into cumulative buckets", "[prometheus]") {
  Histogram h({0.1, 0.5, 1.0});
  for (double v : {0.05, 0.1, 0.2, 0.7, 3.0, 9.0}) h.observe(v);
  auto s = h.snapshot();
  CHECK(s.cumulative == std::vector<std::uint64_t>{2, 3, 4, 6});  // <=0.1, <=0.5, <=1, +Inf
  CHECK(s.count == 6);
  CHECK(s.sum == Approx(13.05));
  CHECK_THROWS_AS(Histogram({1.0, 0.5}), std::invalid_argument);
}

TEST_CASE("values and label values are written as the format wants", "[prometheus]") {
  CHECK(format_metric_value(3) == "3");
  CHECK(format_metric_value(0.005) == "0.005");
  CHECK(format_metric_value(INFINITY) == "+Inf");
  CHECK(format_metric_value(NAN) == "NaN");
  CHECK(escape_label_value("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
  MetricsText t;
  t.family("x_total", "counter", "help with \\ and\nnewline");
  t.sample("x_total", 1, {{"path", "/v1/\"q\""}});
  auto e = read_exposition(t.str());
  CHECK(e.samples.at("x_total{path=\"/v1/\\\"q\\\"\"}") == 1);
}

TEST_CASE("/metrics holds the engine's series and the latency histograms", "[prometheus]") {
  pagedserve::actors::EngineMetrics m;
  m.num_running = 3;
  m.num_waiting = 2;
  m.num_swapped = 1;
  m.gpu_blocks_total = 100;
  m.gpu_blocks_used = 40;
  m.gpu_blocks_cached = 7;
  m.cpu_blocks_total = 50;
  m.cpu_blocks_used = 5;
  m.kv_utilization = 0.97;
  m.num_preemptions_swap = 4;
  m.num_preemptions_recompute = 6;
  m.prefix_queries = 20;
  m.prefix_hits = 15;
  m.prompt_tokens_total = 1234;
  m.generation_tokens_total = 5678;
  ServerStats stats;
  for (double v : {0.01, 0.2, 3.0}) stats.time_to_first_token.observe(v);
  for (int i = 0; i < 50; ++i) stats.inter_token_latency.observe(0.001 * i);
  auto e = read_exposition(render_metrics(&m, stats));
  CHECK(e.samples.at("pagedserve_num_requests_running") == 3);
  CHECK(e.samples.at("pagedserve_num_requests_waiting") == 2);
  CHECK(e.samples.at("pagedserve_num_requests_swapped") == 1);
  CHECK(e.samples.at("pagedserve_kv_blocks_used{pool=\"gpu\"}") == 40);
  CHECK(e.samples.at("pagedserve_kv_blocks_used{pool=\"cpu\"}") == 5);
  CHECK(e.samples.at("pagedserve_kv_blocks_free{pool=\"gpu\"}") == 60);
  CHECK(e.samples.at("pagedserve_kv_blocks_capacity{pool=\"cpu\"}") == 50);
  CHECK(e.samples.at("pagedserve_kv_blocks_cached{pool=\"gpu\"}") == 7);
  CHECK(e.samples.at("pagedserve_kv_cache_usage_ratio{pool=\"gpu\"}") == Approx(0.4));
  CHECK(e.samples.at("pagedserve_kv_cache_usage_ratio{pool=\"cpu\"}") == Approx(0.1));
  CHECK(e.samples.at("pagedserve_kv_utilization_ratio") == Approx(0.97));
  CHECK(e.samples.at("pagedserve_preemptions_total{mode=\"swap\"}") == 4);
  CHECK(e.samples.at("pagedserve_preemptions_total{mode=\"recompute\"}") == 6);
  CHECK(e.samples.at("pagedserve_prefix_cache_queries_total") == 20);
  CHECK(e.samples.at("pagedserve_prefix_cache_hits_total") == 15);
  CHECK(e.samples.at("pagedserve_prompt_tokens_total") == 1234);
  CHECK(e.samples.at("pagedserve_generation_tokens_total") == 5678);
  check_histogram(e, "pagedserve_time_to_first_token_seconds");
  check_histogram(e, "pagedserve_inter_token_latency_seconds");
  CHECK(e.samples.at("pagedserve_time_to_first_token_seconds_count") == 3);
  CHECK(e.samples.at("pagedserve_time_to_first_token_seconds_sum") == Approx(3.21));
  CHECK(e.samples.at("pagedserve_inter_token_latency_seconds_count") == 50);
  for (const auto& [name, type] : e.types)
    if (type == "counter") CHECK((name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0));
}

TEST_CASE("while the model loads /metrics still parses", "[prometheus]") {
  ServerStats stats;
  auto e = read_exposition(render_metrics(nullptr, stats));
  CHECK(e.samples.at("pagedserve_model_ready") == 0);
  check_histogram(e, "pagedserve_time_to_first_token_seconds");
}
