#include "sim/trace.hpp"

#include <catch2/catch.hpp>
#include <fstream>

using namespace pagedserve::sim;

TEST_CASE("synthetic traces have the documented means and respect max_len", "[trace]") {
  auto sg = sharegpt_like(20000, 2048, 1);
  auto s = summarize(sg);
  CHECK(s.mean_input == Approx(161).epsilon(0.05));
  CHECK(s.mean_output == Approx(338).epsilon(0.06));
  CHECK(s.max_total <= 2048);
  auto al = summarize(alpaca_like(20000, 2048, 1));
  CHECK(al.mean_input == Approx(19).epsilon(0.05));
  CHECK(al.mean_output == Approx(58).epsilon(0.06));
  CHECK(sharegpt_like(10, 2048, 5)[3].input_len == sharegpt_like(10, 2048, 5)[3].input_len);  // seeded
}

TEST_CASE("Poisson arrivals have the asked rate", "[trace]") {
  auto t = alpaca_like(20000, 2048, 2);
  assign_poisson_arrivals(t, 4.0, 9);
  CHECK(t.front().arrival == 0);
  CHECK(t.back().arrival / 20000 == Approx(0.25).epsilon(0.03));
  CHECK_THROWS(assign_poisson_arrivals(t, 0, 1));
}

TEST_CASE("trace files are read, and bad lines are named", "[trace]") {
  const std::string path = "/tmp/pagedserve-trace-test.txt";
  std::ofstream(path) << "# input output\n10 20\n\n5 7  # comment\n";
  auto t = load_trace_file(path, 2048);
  REQUIRE(t.size() == 2);
  CHECK(t[1].input_len == 5);
  CHECK(t[1].output_len == 7);
  std::ofstream(path) << "10 20\n10 x\n";
  CHECK_THROWS_WITH(load_trace_file(path, 2048), Catch::Contains(":2:"));
  std::ofstream(path) << "2000 100\n";
  CHECK_THROWS_WITH(load_trace_file(path, 2048), Catch::Contains("at most 2048"));
  std::remove(path.c_str());
}
