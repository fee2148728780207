// What a Hugging Face directory says beside its weights:
// generation_config.json (sampling defaults, end-of-generation ids) and
// tokenizer_config.json / the tokenizer's post-processor (BOS and EOS).

#include "model/hf_directory.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "engine/generator.hpp"
#include "model/loader.hpp"
#include "tiny_hf.hpp"

using namespace pagedserve;

namespace {

struct ModelDir {
  std::string dir;
  explicit ModelDir(const std::string& name, const std::string& post_processor = "null") : dir(testing::temp_dir(name)) {
    testing::write_tiny_hf(testing::make_tiny_checkpoint(testing::TinySpec{}), dir);
    write("tokenizer.json", testing::tiny_tokenizer_json(post_processor));
  }
  ~ModelDir() { std::filesystem::remove_all(dir); }
  void write(const std::string& file, const std::string& text) const { std::ofstream(dir + "/" + file) << text; }
  model::LoadedModel load() const { return model::load_model(dir); }
  std::string error() const {
    try {
      load();
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  }
};

const char* kLlama3Template =
    R"({"type":"Sequence","processors":[{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":false},)"
    R"({"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},)"
    R"({"Sequence":{"id":"A","type_id":0}}],"pair":[],"special_tokens":{}}]})";

}  // namespace

TEST_CASE("generation_config.json gives sampling defaults and more end-of-generation ids", "[hf_directory]") {
  ModelDir m("genconfig");
  auto plain = m.load();
  CHECK(plain.config.generation.empty());
  CHECK(plain.config.eos_ids == std::vector<std::int32_t>{2});
  m.write("generation_config.json",
          R"({"bos_token_id":1,"eos_token_id":[2,3],"do_sample":true,"temperature":0.7,"top_p":0.8,"top_k":20,)"
          R"("repetition_penalty":1.05,"transformers_version":"4.45.0"})");
  auto loaded = m.load();
  CHECK(loaded.config.eos_ids == std::vector<std::int32_t>{2, 3});
  const auto s = loaded.config.generation.sampling();
  CHECK(s.temperature == 0.7f);
  CHECK(s.top_p == 0.8f);
  CHECK(s.top_k == 20);
  CHECK(s.repetition_penalty == 1.05f);
  CHECK(s.min_p == 0.0f);  // not given: the usual default
  CHECK(loaded.config.generation.describe() == "temperature=0.7 top_p=0.8 top_k=20 repetition_penalty=1.05");
  m.write("generation_config.json", R"({"eos_token_id":9999})");
  CHECK_THAT(m.error(), Catch::Contains("generation_config.json names end-of-generation token 9999, outside the vocabulary"));
  m.write("generation_config.json", R"({"temperature":"hot"})");
  CHECK_THAT(m.error(), Catch::Contains("generation_config.json field temperature is not a number"));
  m.write("generation_config.json", R"({"top_p":0})");
  CHECK_THAT(m.error(), Catch::Contains("top_p"));
}

TEST_CASE("an eos_token_id of generation_config.json ends generation", "[hf_directory]") {
  ModelDir m("geneos");
  auto run = [&] {
    auto loaded = m.load();
    auto backend = kernels::make_backend("cpu");
    model::LlamaModel llama(loaded.config, loaded.weights, *backend);
    engine::GeneratorConfig config;
    config.blocks.num_gpu_blocks = 64;
    engine::Generator gen(llama, loaded.tokenizer.get(), config);
    engine::GenerationRequest r;
    r.prompt_ids = {1, 7, 8, 9};
    r.params.temperature = 0;
    r.params.max_tokens = 12;
    return gen.generate({r}).front();
  };
  const auto free_run = run();
  REQUIRE(free_run.output_ids.size() == 12);
  // The third greedy token, made an end-of-generation token, ends the run
  // where it first appears.
  const std::int32_t third = free_run.output_ids[2];
  REQUIRE(third != 2);
  m.write("generation_config.json", "{\"eos_token_id\":[2," + std::to_string(third) + "]}");
  const auto stopped = run();
  CHECK(stopped.finish_reason == "stop");
  const auto first_hit = std::find(free_run.output_ids.begin(), free_run.output_ids.end(), third);
  // The end-of-generation token itself is not part of the output.
  CHECK(stopped.output_ids == std::vector<std::int32_t>(free_run.output_ids.begin(), first_hit));
}

TEST_CASE("tokenizer_config.json decides whether prompts start with BOS, and which tokens BOS and EOS are",
          "[hf_directory]") {
  SECTION("no tokenizer_config.json: BOS from config.json") {
    ModelDir m("tok-none");
    auto ids = m.load().tokenizer->encode("ab", true);
    CHECK(ids == std::vector<std::int32_t>{1, 4, 5, 6});
  }
  SECTION("add_bos_token false: never") {
    ModelDir m("tok-nobos");
    m.write("tokenizer_config.json", R"({"add_bos_token":false,"bos_token":"<s>","eos_token":"</s>"})");
    auto loaded = m.load();
    CHECK(loaded.tokenizer->encode("ab", true) == std::vector<std::int32_t>{4, 5, 6});
  }
  SECTION("Qwen style: bos_token null and no add_bos_token: no BOS; its eos_token ends generation") {
    ModelDir m("tok-qwen");
    m.write("tokenizer_config.json", R"({"bos_token":null,"eos_token":"<|im_end|>","pad_token":"<|endoftext|>"})");
    auto loaded = m.load();
    CHECK(loaded.tokenizer->encode("ab", true) == std::vector<std::int32_t>{4, 5, 6});
    CHECK(loaded.tokenizer->eos_id() == 3);
    CHECK(loaded.config.eos_ids == std::vector<std::int32_t>{2, 3});
  }
  SECTION("AddedToken objects and add_bos_token true") {
    ModelDir m("tok-added");
    m.write("tokenizer_config.json",
            R"({"add_bos_token":true,"bos_token":{"content":"</s>","lstrip":false},"eos_token":{"content":"<|im_end|>"}})");
    auto loaded = m.load();
    CHECK(loaded.tokenizer->encode("a", true) == std::vector<std::int32_t>{2, 4, 5});
    CHECK(loaded.config.bos_id == 2);
  }
  SECTION("Llama 3 style: the post-processor template adds BOS") {
    ModelDir m("tok-template", kLlama3Template);
    m.write("tokenizer_config.json", R"({"bos_token":"<s>","eos_token":"</s>"})");
    CHECK(m.load().tokenizer->encode("ab", true).front() == 1);
    ModelDir bare("tok-template-bare", kLlama3Template);
    bare.write("tokenizer_config.json", R"({"eos_token":"</s>"})");
    CHECK(bare.load().tokenizer->encode("ab", true).front() == 1);
  }
  SECTION("tokens the tokenizer lacks are refused by name") {
    ModelDir m("tok-bad");
    m.write("tokenizer_config.json", R"({"eos_token":"<|eot_id|>"})");
    CHECK_THAT(m.error(), Catch::Contains("eos_token \"<|eot_id|>\" is not a token of the model's tokenizer"));
    m.write("tokenizer_config.json", R"({"add_bos_token":"yes"})");
    CHECK_THAT(m.error(), Catch::Contains("add_bos_token is not a boolean"));
  }
}

TEST_CASE("tokenizer_config.json's chat_template, a string or a named list, is kept with the special tokens' text",
          "[hf_directory]") {
  ModelDir m("tok-chat");
  CHECK(m.load().config.chat_templates.named.empty());
  m.write("tokenizer_config.json", R"({"bos_token":"<s>","eos_token":"</s>","chat_template":"{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}"})");
  const auto single = m.load().config.chat_templates;
  REQUIRE(single.named.size() == 1);
  CHECK(single.named[0].first == "default");
  CHECK(single.named[0].second == "{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}");
  CHECK(single.bos_token == "<s>");
  CHECK(single.eos_token == "</s>");
  m.write("tokenizer_config.json",
          R"({"bos_token":null,"eos_token":"</s>","chat_template":[{"name":"default","template":"D"},{"name":"tool_use","template":"T"}]})");
  const auto list = m.load().config.chat_templates;
  CHECK(list.named == std::vector<std::pair<std::string, std::string>>{{"default", "D"}, {"tool_use", "T"}});
  CHECK_FALSE(list.bos_token.has_value());
  m.write("tokenizer_config.json", R"({"chat_template":[{"name":"default"}]})");
  CHECK_THAT(m.error(), Catch::Contains("chat_template is neither a string nor a list of {name, template}"));
  m.write("tokenizer_config.json", R"({"chat_template":7})");
  CHECK_THAT(m.error(), Catch::Contains("chat_template is neither"));
}
