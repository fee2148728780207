#include "grammar/program.hpp"

#include <algorithm>
#include <functional>
#include <map>

namespace pagedserve::grammar {

namespace {

constexpr int kMaxRepeat = 10000;  // a bound of {m,n}: each count is a rule, and chains of rules are expanded recursively

using Alternative = std::vector<Element>;
using Body = std::vector<Alternative>;

class Lowerer {
 public:
  explicit Lowerer(const Rules& rules) : rules_(rules) {}

  Program run() {
    if (!rules_.rules.count(rules_.root)) throw GrammarError("the grammar has no rule named " + rules_.root);
    program_.root = named_rule(rules_.root);
    lay_out();
    return std::move(program_);
  }

 private:
  std::uint32_t new_rule(std::string name) {
    program_.rule_names.push_back(std::move(name));
    bodies_.emplace_back();
    return static_cast<std::uint32_t>(bodies_.size() - 1);
  }

  // A named rule is lowered once, on first reference (so recursion works).
  std::uint32_t named_rule(const std::string& name) {
    if (auto it = named_.find(name); it != named_.end()) return it->second;
    auto def = rules_.rules.find(name);
    if (def == rules_.rules.end()) throw GrammarError("the grammar uses the undefined rule " + name);
    const std::uint32_t id = new_rule(name);
    named_[name] = id;
    Body body;
    lower_alternatives(def->second, body);
    bodies_[id] = std::move(body);
    return id;
  }

  std::uint32_t aux_rule(Body body) {
    const std::uint32_t id = new_rule("(" + std::to_string(bodies_.size()) + ")");
    bodies_[id] = std::move(body);
    return id;
  }

  Element bytes(const ByteSet& set) {
    auto [it, added] = set_ids_.try_emplace(set, static_cast<std::uint32_t>(program_.sets.size()));
    if (added) program_.sets.push_back(set);
    return {Element::Kind::bytes, it->second};
  }

  void lower_alternatives(const Expr& e, Body& out) {
    if (e.kind == Expr::Kind::alternatives) {
      for (const Expr& item : e.items) lower_alternatives(item, out);
      return;
    }
    Alternative alt;
    lower_sequence(e, alt);
    out.push_back(std::move(alt));
  }

  void lower_sequence(const Expr& e, Alternative& out) {
    switch (e.kind) {
      case Expr::Kind::sequence:
        for (const Expr& item : e.items) lower_sequence(item, out);
        return;
      case Expr::Kind::literal:
        for (unsigned char c : e.text) {
          ByteSet s;
          s.add(c, c);
          out.push_back(bytes(s));
        }
        return;
      case Expr::Kind::repeat:
        lower_repeat(e, out);
        return;
      default:
        out.push_back(single(e));
    }
  }

  // `e` as one element: a byte set, a rule, or an auxiliary rule.
  Element single(const Expr& e) {
    switch (e.kind) {
      case Expr::Kind::rule:
        return {Element::Kind::rule, named_rule(e.text)};
      case Expr::Kind::chars:
        return char_class(e.chars);
      default: {
        Body body;
        lower_alternatives(e, body);
        if (body.size() == 1 && body[0].size() == 1) return body[0][0];
        return {Element::Kind::rule, aux_rule(std::move(body))};
      }
    }
  }

  // A class of code points: one byte set when all are ASCII, else a rule
  // with one alternative per UTF-8 byte-range sequence.
  Element char_class(const CodepointSet& set) {
    auto key = set.ranges;
    if (auto it = class_rules_.find(key); it != class_rules_.end()) return it->second;
    Body body;
    ByteSet ascii;
    for (const auto& [lo, hi] : set.ranges)
      for (const auto& seq : utf8_sequences(lo, hi)) {
        if (seq.size() == 1) {
          ascii.add(seq[0].first, seq[0].second);
          continue;
        }
        Alternative alt;
        for (const auto& [a, b] : seq) {
          ByteSet s;
          s.add(a, b);
          alt.push_back(bytes(s));
        }
        body.push_back(std::move(alt));
      }
    Element el;
    if (body.empty()) {
      el = bytes(ascii);  // may be empty: that alternative then matches nothing
    } else {
      if (!ascii.empty()) body.push_back({bytes(ascii)});
      el = {Element::Kind::rule, aux_rule(std::move(body))};
    }
    class_rules_[key] = el;
    return el;
  }

  // x{m,n}: m copies, then a chain of optional ones (or a loop when n is
  // unbounded), each a right-recursive rule the matcher runs in constant
  // stack depth.
  void lower_repeat(const Expr& e, Alternative& out) {
    if (e.min < 0 || e.min > kMaxRepeat || e.max > kMaxRepeat || (e.max >= 0 && e.max < e.min))
      throw GrammarError("a repetition {" + std::to_string(e.min) + "," + std::to_string(e.max) + "} is out of range");
    if (e.max == 0) return;
    const Element item = single(e.items.at(0));
    for (int i = 0; i < e.min; ++i) out.push_back(item);
    if (e.max < 0) {
      const std::uint32_t loop = aux_rule({});
      bodies_[loop] = {{item, {Element::Kind::rule, loop}}, {}};
      out.push_back({Element::Kind::rule, loop});
      return;
    }
    std::uint32_t tail = 0;
    for (int k = 1; k <= e.max - e.min; ++k) {
      Body body;
      body.push_back(k == 1 ? Alternative{item} : Alternative{item, {Element::Kind::rule, tail}});
      body.push_back({});
      tail = aux_rule(std::move(body));
    }
    if (e.max > e.min) out.push_back({Element::Kind::rule, tail});
  }

  void lay_out() {
    check_productive();
    check_left_recursion();
    program_.rule_alts.resize(bodies_.size());
    for (std::size_t r = 0; r < bodies_.size(); ++r)
      for (const Alternative& alt : bodies_[r]) {
        program_.rule_alts[r].push_back(static_cast<std::uint32_t>(program_.code.size()));
        program_.code.insert(program_.code.end(), alt.begin(), alt.end());
        program_.code.push_back({});
      }
  }

  // Rules that derive at least one string (a fixpoint); the root must.
  void check_productive() {
    std::vector<bool> productive(bodies_.size(), false);
    auto element_ok = [&](const Element& el) {
      return el.kind == Element::Kind::bytes ? !program_.sets[el.index].empty() : productive[el.index];
    };
    for (bool changed = true; changed;) {
      changed = false;
      for (std::size_t r = 0; r < bodies_.size(); ++r) {
        if (productive[r]) continue;
        for (const Alternative& alt : bodies_[r])
          if (std::all_of(alt.begin(), alt.end(), element_ok)) productive[r] = changed = true;
      }
    }
    if (!productive[program_.root]) throw GrammarError("the grammar accepts no string at all");
    // An alternative that can never complete would lead the matcher into
    // a dead end: drop it.
    for (auto& body : bodies_)
      body.erase(std::remove_if(body.begin(), body.end(),
                                [&](const Alternative& alt) { return !std::all_of(alt.begin(), alt.end(), element_ok); }),
                 body.end());
  }

  std::vector<bool> nullable_rules() const {
    std::vector<bool> nullable(bodies_.size(), false);
    for (bool changed = true; changed;) {
      changed = false;
      for (std::size_t r = 0; r < bodies_.size(); ++r) {
        if (nullable[r]) continue;
        for (const Alternative& alt : bodies_[r])
          if (std::all_of(alt.begin(), alt.end(),
                          [&](const Element& el) { return el.kind == Element::Kind::rule && nullable[el.index]; }))
            nullable[r] = changed = true;
      }
    }
    return nullable;
  }

  // A rule that can reach itself before reading a byte would make the
  // matcher's expansion loop forever.
  void check_left_recursion() const {
    const std::vector<bool> nullable = nullable_rules();
    std::vector<int> mark(bodies_.size(), 0);  // 0 new, 1 on the path, 2 done
    std::function<void(std::uint32_t)> visit = [&](std::uint32_t r) {
      mark[r] = 1;
      for (const Alternative& alt : bodies_[r])
        for (const Element& el : alt) {
          if (el.kind != Element::Kind::rule) break;
          if (mark[el.index] == 1)
            throw GrammarError("the grammar rule " + program_.rule_names[el.index] + " is left-recursive");
          if (mark[el.index] == 0) visit(el.index);
          if (!nullable[el.index]) break;
        }
      mark[r] = 2;
    };
    for (std::uint32_t r = 0; r < bodies_.size(); ++r)
      if (mark[r] == 0) visit(r);
  }

  const Rules& rules_;
  Program program_;
  std::vector<Body> bodies_;
  std::map<std::string, std::uint32_t> named_;
  std::map<ByteSet, std::uint32_t> set_ids_;
  std::map<std::vector<std::pair<std::uint32_t, std::uint32_t>>, Element> class_rules_;
};

}  // namespace

Program lower(const Rules& rules) { return Lowerer(rules).run(); }

}  // namespace pagedserve::grammar
