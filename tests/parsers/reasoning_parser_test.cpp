// The <think> reasoning split, whole and streamed in every cut.

#include <catch2/catch.hpp>

#include <random>

#include "parsers/reasoning_parser.hpp"

using namespace pagedserve::parsers;

namespace {

// Streams `output` in deltas cut at random points.
ReasoningSplit stream_in_pieces(std::string_view output, bool starts_inside, std::mt19937& rng) {
  ReasoningStream stream(starts_inside);
  ReasoningSplit all;
  std::size_t at = 0;
  while (at < output.size()) {
    const std::size_t n = 1 + rng() % 5;
    auto part = stream.feed(output.substr(at, n));
    all.reasoning += part.reasoning;
    all.content += part.content;
    at += n;
  }
  auto last = stream.finish();
  all.reasoning += last.reasoning;
  all.content += last.content;
  return all;
}

}  // namespace

TEST_CASE("reasoning between <think> and </think> is split from the answer", "[parsers]") {
  auto s = split_reasoning("<think>\nThe user greets me.\n</think>\n\nHello!", false);
  CHECK(s.reasoning == "The user greets me.\n");
  CHECK(s.content == "Hello!");
  s = split_reasoning("  <think>a</think>b", false);
  CHECK(s.reasoning == "a");
  CHECK(s.content == "b");
}

TEST_CASE("an answer without <think> is all content", "[parsers]") {
  auto s = split_reasoning("Hello, <think> is a tag.", false);
  CHECK(s.reasoning.empty());
  CHECK(s.content == "Hello, <think> is a tag.");
  s = split_reasoning("<thin", false);
  CHECK(s.content == "<thin");
}

TEST_CASE("a template that opened <think> makes the output start in the reasoning", "[parsers]") {
  CHECK(prompt_opens_reasoning("<|im_start|>assistant\n<think>\n"));
  CHECK_FALSE(prompt_opens_reasoning("<|im_start|>assistant\n<think>\n\n</think>\n\n"));
  CHECK_FALSE(prompt_opens_reasoning("<|im_start|>assistant\n"));
  CHECK_FALSE(prompt_opens_reasoning("<think>x</think> then <think> and text after"));
  auto s = split_reasoning("Let me think.</think>\n\nIt is 4.", true);
  CHECK(s.reasoning == "Let me think.");
  CHECK(s.content == "It is 4.");
}

TEST_CASE("output cut off while thinking is all reasoning", "[parsers]") {
  auto s = split_reasoning("<think>still going", false);
  CHECK(s.reasoning == "still going");
  CHECK(s.content.empty());
  s = split_reasoning("still going </thi", true);
  CHECK(s.reasoning == "still going </thi");
}

TEST_CASE("streaming in any cut gives the whole split", "[parsers]") {
  const char* outputs[] = {"<think>\nplan: a, b\n</think>\n\nanswer </think> again", "plain <think> answer",
                           "\n\n<think></think>\n\nx", "<thi", "   ", "<think>a</think", "</think>\n\nonly content"};
  std::mt19937 rng(7);
  for (const char* output : outputs)
    for (bool inside : {false, true})
      for (int trial = 0; trial < 50; ++trial) {
        INFO(output << " inside=" << inside);
        const auto whole = split_reasoning(output, inside);
        const auto streamed = stream_in_pieces(output, inside, rng);
        CHECK(streamed.reasoning == whole.reasoning);
        CHECK(streamed.content == whole.content);
      }
}
