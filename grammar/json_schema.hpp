#pragma once
// JSON Schema to rules, and the generic JSON grammar of json_object mode.
// Output is compact JSON: no whitespace except one optional space after
// ':' and ','. Numbers have at most 16 integer and 16 fraction digits and a
// two-digit exponent; strings count characters (an escape is one).
//
// Supported keywords: type (one or a list; "null" makes a value nullable),
// enum, const, properties, required, additionalProperties (false, true or a
// schema), items, minItems, maxItems, minLength, maxLength, pattern (a
// regex; not combined with min/maxLength), $ref to "#..." JSON pointers
// ($defs, definitions, or the root: recursion works), anyOf, oneOf (as
// anyOf: the branches should not overlap), allOf with one schema,
// nullable: true, and boolean schemas. Annotations (title, description,
// default, examples, $schema, $id, $comment, deprecated, readOnly,
// writeOnly) are ignored. Any other keyword is refused by name.
//
// Properties come out in schema order; optional ones may be left out. An
// object schema with properties and no additionalProperties produces no
// other properties (a valid subset of what the schema allows); with
// additionalProperties true or a schema, extra keys differ from every
// listed name and use no escapes.

#include <string_view>

#include "grammar/expr.hpp"

namespace pagedserve::grammar {

// Throws GrammarError naming the keyword and where it is.
Rules json_schema_rules(std::string_view schema_json);
// Any JSON object (response_format {"type":"json_object"}).
Rules json_object_rules();

}  // namespace pagedserve::grammar
