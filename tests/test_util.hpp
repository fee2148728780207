#pragma once
// Small helpers shared by the test suites.

#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace pagedserve::testing {

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// n values uniform in [-1, 1), seeded.
inline std::vector<float> random_vector(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

}  // namespace pagedserve::testing
