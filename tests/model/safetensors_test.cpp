#include "model/safetensors.hpp"

#include <catch2/catch.hpp>
#include <filesystem>

#include "hf_export.hpp"

using namespace pagedserve;
using testing::TensorToWrite;

TEST_CASE("safetensors tensors of every supported dtype map in place", "[safetensors]") {
  auto dir = testing::temp_dir("st");
  std::vector<float> v = {1.0f, -2.0f, 0.5f, 3.25f, 0.0f, -0.125f};
  testing::write_safetensors(dir + "/a.safetensors", {{"f32", {"F32", {2, 3}, testing::to_bytes(v, "F32")}},
                                                       {"f16", {"F16", {6}, testing::to_bytes(v, "F16")}},
                                                       {"bf16", {"BF16", {3, 2}, testing::to_bytes(v, "BF16")}}});
  model::SafetensorsFile f(dir + "/a.safetensors");
  REQUIRE(f.tensors().size() == 3);
  for (const char* name : {"f32", "f16", "bf16"}) {
    const auto& t = f.tensors().at(name).tensor;
    std::vector<float> back(6);
    kernels::convert_to_f32(t.data, t.dtype, back.data(), 6);
    CHECK(back == v);
  }
  CHECK(f.tensors().at("f32").tensor.rows == 2);
  CHECK(f.tensors().at("f16").tensor.rows == 1);
  std::filesystem::remove_all(dir);
}

TEST_CASE("malformed safetensors files are refused with the reason", "[safetensors]") {
  auto dir = testing::temp_dir("stbad");
  auto path = dir + "/b.safetensors";
  std::vector<float> v(4, 1.0f);
  auto expect_error = [&](const std::map<std::string, TensorToWrite>& t, const std::string& header, const char* what) {
    testing::write_safetensors(path, t, header);
    CHECK_THROWS_WITH(model::SafetensorsFile(path), Catch::Contains(what));
  };
  expect_error({{"x", {"I8", {4}, std::vector<char>(4)}}}, "", "dtype I8");
  expect_error({{"x", {"F32", {5}, testing::to_bytes(v, "F32")}}}, "", "does not match its shape");
  expect_error({}, "{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,999]}}", "outside the file");
  expect_error({}, "{not json", "not a JSON object");
  expect_error({}, "{\"x\":{\"dtype\":\"F32\"}}", "lacks dtype, shape or data_offsets");
  expect_error({{"a", {"F32", {4}, testing::to_bytes(v, "F32")}}},
               "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
               "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
               "overlap");
  std::ofstream(path) << "abc";
  CHECK_THROWS_WITH(model::SafetensorsFile(path), Catch::Contains("too small"));
  CHECK_THROWS_WITH(model::SafetensorsFile(dir + "/missing"), Catch::Contains("cannot open"));
  std::filesystem::remove_all(dir);
}
