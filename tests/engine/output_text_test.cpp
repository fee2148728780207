// Streaming text: detokenization, stop strings, and the events held back
// while their text may still become a stop string.

#include "engine/output_text.hpp"

#include <catch2/catch.hpp>

#include "../model/reference_cases.hpp"
#include "model/loader.hpp"

using namespace pagedserve;
using namespace pagedserve::engine;

namespace {

struct Streamed {
  std::string text;       // of the released events, joined
  int num_events = 0;
  bool stopped = false;
  int stopped_at = -1;    // token index that completed a stop string
  std::vector<std::string> texts_when_released;
  std::vector<std::string> texts_decoded;  // the whole text after each token
};

Streamed stream(const model::Tokenizer& tok, const std::vector<std::int32_t>& prompt, const std::vector<std::int32_t>& ids,
                std::vector<std::string> stop) {
  OutputText text(&tok, prompt.back(), std::move(stop));
  Streamed s;
  std::vector<Event> events;
  for (std::size_t i = 0; i < ids.size() && !s.stopped; ++i) {
    s.stopped = text.push(TokenEvent{"r", 0, ids[i], {}, 0.0f, {}});
    if (s.stopped) s.stopped_at = static_cast<int>(i);
    else text.take_ready(events);
    for (auto& e : events) {
      s.text += std::get<TokenEvent>(e).text;
      ++s.num_events;
    }
    s.texts_when_released.push_back(s.text);
    s.texts_decoded.push_back(text.text());
    events.clear();
  }
  text.finish(events);
  for (auto& e : events) {
    s.text += std::get<TokenEvent>(e).text;
    ++s.num_events;
  }
  return s;
}

}  // namespace

TEST_CASE("without stop strings every token's text goes out at once", "[output_text]") {
  auto loaded = model::load_model(testing::stories260k_dir());
  const auto c = testing::load_reference_cases()[1];
  auto s = stream(*loaded.tokenizer, c.prompt_ids, c.output_ids, {});
  CHECK(s.text == loaded.tokenizer->decode(c.prompt_ids.back(), c.output_ids));
  CHECK(s.num_events == static_cast<int>(c.output_ids.size()));
  CHECK(s.texts_when_released.back() == s.text);
}

TEST_CASE("a stop string ends the text where it starts and is never sent", "[output_text]") {
  auto loaded = model::load_model(testing::stories260k_dir());
  const auto c = testing::load_reference_cases()[1];
  const std::string full = loaded.tokenizer->decode(c.prompt_ids.back(), c.output_ids);
  REQUIRE(full.find("Lily") != std::string::npos);
  auto s = stream(*loaded.tokenizer, c.prompt_ids, c.output_ids, {"Lily"});
  CHECK(s.stopped);
  CHECK(s.text == full.substr(0, full.find("Lily")));
  CHECK(s.num_events == s.stopped_at + 1);  // every token has its event, the stop string's texts are empty
  for (const auto& released : s.texts_when_released) CHECK(released.find('L', full.find("Lily")) == std::string::npos);
}

TEST_CASE("text held back as a possible stop string is sent once it is not one", "[output_text]") {
  auto loaded = model::load_model(testing::stories260k_dir());
  const auto c = testing::load_reference_cases()[1];
  const std::string full = loaded.tokenizer->decode(c.prompt_ids.back(), c.output_ids);
  const std::string stop = "Lily and the dragon";  // starts like the story, then differs
  REQUIRE(full.find(stop) == std::string::npos);
  auto s = stream(*loaded.tokenizer, c.prompt_ids, c.output_ids, {stop});
  CHECK_FALSE(s.stopped);
  CHECK(s.text == full);
  CHECK(s.num_events == static_cast<int>(c.output_ids.size()));
  // While the text ended in "Lily" that part was held back.
  int num_held = 0;
  for (std::size_t i = 0; i < s.texts_decoded.size(); ++i) {
    const auto& d = s.texts_decoded[i];
    if (d.size() < 4 || d.compare(d.size() - 4, 4, "Lily") != 0) continue;
    CHECK(s.texts_when_released[i].size() <= d.size() - 4);
    ++num_held;
  }
  CHECK(num_held > 0);
}
